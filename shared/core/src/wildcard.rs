//! ECR's wildcard filters: `*` stands for any run of characters (including none), everything else is
//! literal. Used by registry scanning filters, replication filters and lifecycle `tagPatternList`.

/// Whether `text` matches the ECR wildcard `pattern` (`*` = any run of characters, case-sensitive).
pub fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::matches;

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
