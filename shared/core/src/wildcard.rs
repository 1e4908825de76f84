//! ECR's wildcard filters: `*` stands for any run of characters (including none), everything else is
//! literal. Used by tag mutability exclusions, lifecycle `tagPatternList` and (with a wildcard) registry
//! scanning filters, whose wildcard-free form means "contains" (see [`crate::scan_filter`]).

/// A wildcard pattern split at its `*`s once, with a substring finder built for each inner part, to
/// match many texts.
#[derive(Debug, Clone)]
pub(crate) struct Pattern<'a> {
    first: &'a str,
    last: &'a str,
    /// Finders for the parts between the first and last `*` (`None`: the pattern has no `*`).
    middles: Option<Vec<memchr::memmem::Finder<'a>>>,
}

impl<'a> Pattern<'a> {
    /// Splits `pattern` at its wildcards.
    pub(crate) fn new(pattern: &'a str) -> Self {
        let parts: Vec<&str> = pattern.split('*').collect();
        match parts.as_slice() {
            [only] => Self { first: only, last: "", middles: None },
            [first, middles @ .., last] => Self {
                first,
                last,
                middles: Some(middles.iter().map(|m| memchr::memmem::Finder::new(m.as_bytes())).collect()),
            },
            [] => Self { first: "", last: "", middles: None },
        }
    }

    /// Whether `text` matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let Some(middles) = &self.middles else { return text == self.first };
        let (first, last) = (self.first, self.last);
        if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
            return false;
        }
        let mut rest = &text.as_bytes()[first.len()..text.len() - last.len()];
        for finder in middles {
            match finder.find(rest) {
                Some(at) => rest = &rest[at + finder.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    /// Whether `text` matches the ECR wildcard `pattern` (`*` = any run of characters, case-sensitive).
    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).matches(text)
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(matches("prod", "prod"));
        assert!(!matches("prod", "prod1"));
        assert!(!matches("prod", "pro"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(matches("*", ""));
        assert!(matches("*", "team-a/app"));
        assert!(matches("prod*", "prod"));
        assert!(matches("prod*", "prod/app"));
        assert!(matches("*app", "team/app"));
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(!matches("a*b*c", "a-x-c"));
        assert!(!matches("ab*ba", "aba"), "prefix and suffix must not overlap");
    }
}
