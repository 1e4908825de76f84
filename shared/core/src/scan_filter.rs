//! ECR's registry scanning filters: what they match, what ECR accepts, and how one is derived from a
//! baseline glob.
//!
//! A filter without `*` matches every repository name that *contains* it; a filter with `*` matches a whole
//! name, each `*` standing for any run of characters (ECR user guide, "Filters to choose which repositories
//! are scanned in Amazon ECR"). So a bare name is never an exact match: `api` also covers `payments-api-v2`.

use crate::wildcard::Pattern;

/// ECR's limit on filters in one registry scanning rule (`ScanningRepositoryFilterList`, max 100).
pub const MAX_FILTERS_PER_RULE: usize = 100;
/// ECR's limit on the length of one filter (`ScanningRepositoryFilterValue`, 1-255 characters).
pub(crate) const MAX_FILTER_LEN: usize = 255;

/// Whether the registry scanning filter `filter` covers the repository `name`, as ECR decides it.
pub fn matches(filter: &str, name: &str) -> bool {
    if filter.contains('*') {
        Pattern::new(filter).matches(name)
    } else {
        name.contains(filter)
    }
}

/// The whole-name byte regex equivalent to `filter`, for comparing it with globs.
pub fn regex(filter: &str) -> String {
    let body = filter.replace('.', r"\.").replace('*', ".*");
    if filter.contains('*') {
        format!("(?-u)^{body}$")
    } else {
        format!("(?-u)^.*{body}.*$")
    }
}

/// Why ECR would refuse `filter`, if it would: 1-255 characters matching
/// `^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$` (API reference, `ScanningRepositoryFilter`).
pub fn problem(filter: &str) -> Option<String> {
    let separator = |c: char| matches!(c, '.' | '_' | '-' | '/');
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '*';
    if filter.is_empty() || filter.len() > MAX_FILTER_LEN {
        return Some(format!(
            "ECR scanning filters are 1-{MAX_FILTER_LEN} characters; `{filter}` has {}",
            filter.len()
        ));
    }
    let chars: Vec<char> = filter.chars().collect();
    let well_formed = chars.iter().all(|&c| word(c) || separator(c))
        && !separator(chars[0])
        && !separator(chars[chars.len() - 1])
        && chars.windows(2).all(|pair| !(separator(pair[0]) && separator(pair[1])));
    (!well_formed).then(|| {
        format!(
            "`{filter}` is not a valid ECR scanning filter (lowercase letters, digits and `*`, single `.`, `_`, `-` \
             or `/` between them)"
        )
    })
}

/// The narrowest ECR scanning filter that covers every name the baseline glob `glob` matches: each
/// wildcard construct (`*`, `**`, `?`, `[..]`, `{..}`) becomes `*`. A glob without wildcards (one exact
/// name) becomes `name*`, since a bare name would cover every name containing it. An error when the
/// result is not a filter ECR accepts.
pub fn from_glob(glob: &str) -> Result<String, String> {
    let mut filter = String::new();
    let mut chars = glob.chars().peekable();
    let star = |filter: &mut String| {
        if !filter.ends_with('*') {
            filter.push('*');
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => filter.extend(chars.next()),
            '*' | '?' => star(&mut filter),
            '[' => {
                // A class: `]` right after `[` or `[!` is a member, not the end.
                if matches!(chars.peek(), Some('!' | '^')) {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
                star(&mut filter);
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                star(&mut filter);
            }
            c => filter.push(c),
        }
    }
    if !filter.contains('*') {
        filter.push('*');
    }
    match problem(&filter) {
        None => Ok(filter),
        Some(problem) => Err(format!("glob `{glob}` has no ECR scanning filter: {problem}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::NameGlob;

    /// The table in the ECR user guide, "Filters to choose which repositories are scanned in Amazon ECR"
    /// (docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-filters.html): repository names
    /// across, filters down. A filter without a wildcard matches names that contain it.
    #[test]
    fn filters_match_as_the_ecr_user_guide_table_says() {
        let names = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"];
        let table = [
            ("prod", [true, true, true, true, true]),
            ("*prod", [true, true, false, false, false]),
            ("prod*", [true, false, true, false, true]),
            ("*prod*", [true, true, true, true, true]),
            ("prod*repo", [false, false, true, false, true]),
        ];
        for (filter, row) in table {
            for (name, want) in names.iter().zip(row) {
                assert_eq!(matches(filter, name), want, "filter `{filter}` on `{name}`");
                let by_regex = regex::bytes::Regex::new(&regex(filter)).expect("regex").is_match(name.as_bytes());
                assert_eq!(by_regex, want, "regex of `{filter}` on `{name}`");
            }
        }
    }

    #[test]
    fn filters_ecr_refuses_are_named() {
        for good in ["*", "prod/*", "team-*/app", "a", "app_1.x*"] {
            assert_eq!(problem(good), None, "{good}");
        }
        for bad in ["", "Prod*", "prod/", "-prod", "prod--x", "prod/-x", "pr od", &"a".repeat(256)] {
            assert!(problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(problem(&"a".repeat(255)), None);
    }

    #[test]
    fn globs_become_the_narrowest_covering_filter() {
        assert_eq!(from_glob("**"), Ok("*".to_string()));
        assert_eq!(from_glob("prod/**"), Ok("prod/*".to_string()));
        assert_eq!(from_glob("team-?/app"), Ok("team-*/app".to_string()));
        assert_eq!(from_glob("team-[ab]/*"), Ok("team-*/*".to_string()));
        assert_eq!(from_glob("team-[]x]/*"), Ok("team-*/*".to_string()));
        assert_eq!(from_glob("{api,web}-*"), Ok("*-*".to_string()));
        assert_eq!(from_glob("billing"), Ok("billing*".to_string()), "never a bare name: that means `contains`");
        assert_eq!(from_glob(r"app\.v1/**"), Ok("app.v1/*".to_string()), "escapes are literal");
        assert!(from_glob("Prod/**").is_err());
        assert!(from_glob(&format!("{}/**", "a".repeat(260))).expect_err("too long").contains("1-255"));
    }

    #[test]
    fn a_glob_s_filter_covers_every_name_the_glob_matches() {
        let names = [
            "prod",
            "prod/api",
            "prod/eu/api",
            "team-a/app",
            "team-b/x/app",
            "billing",
            "billing-v2",
            "api-x",
            "web-1",
            "a/b/c",
        ];
        for glob in ["**", "prod/**", "prod/*", "team-?/app", "team-[ab]/**", "billing", "{api,web}-*", "*/*/c"] {
            let filter = from_glob(glob).expect("expressible");
            let glob = NameGlob::new(glob).expect("valid glob");
            for name in names.iter().filter(|name| glob.matches(name)) {
                assert!(matches(&filter, name), "`{filter}` from `{}` misses `{name}`", glob.as_str());
            }
        }
    }
}
