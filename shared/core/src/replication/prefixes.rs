//! From repository-name globs to ECR replication filters, which are name prefixes.
//!
//! A glob like `prod/*` has no prefix equivalent in general (`prod/` would also cover `prod/x/y`), so the
//! prefixes are chosen against the repositories that exist: the fewest, shortest prefixes (each at least
//! the glob's literal start) that cover every repository to replicate and no repository the glob leaves
//! out. When a repository to replicate is itself a prefix of one left out, no prefix can tell them apart:
//! that is reported, never approximated.

/// What a repository is to the filters being chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Must be covered.
    Cover,
    /// Must not be covered.
    Avoid,
    /// Either way (already covered, or exempt).
    Either,
}

/// A repository to cover that no prefix can separate from one to avoid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inseparable {
    /// The repository to cover.
    pub cover: String,
    /// The repository to avoid, whose name starts with `cover`.
    pub avoid: String,
}

/// ECR's shortest filter.
pub const MIN_FILTER_LEN: usize = 2;

/// The literal start of a glob: everything before its first wildcard or escape.
pub fn literal_start(glob: &str) -> &str {
    let end = glob.find(['*', '?', '[', '{', '\\']).unwrap_or(glob.len());
    &glob[..end]
}

/// The prefix a glob means exactly, whatever repositories exist: `team/` for `team/**`, `""` for `**`
/// (every repository). `None` when the glob has no such prefix.
pub fn exact_prefix(glob: &str) -> Option<&str> {
    if glob == "**" {
        return Some("");
    }
    let start = glob.strip_suffix("**")?;
    (start.ends_with('/') && literal_start(start) == start && start.len() >= MIN_FILTER_LEN).then_some(start)
}

/// The fewest prefixes, each starting with `start`, that cover every [`Want::Cover`] name among
/// `names` and no [`Want::Avoid`] name. Names that don't start with `start` are ignored.
pub fn choose(start: &str, names: &[(&str, Want)]) -> Result<Vec<String>, Inseparable> {
    let mut under: Vec<(&str, Want)> = names.iter().copied().filter(|(name, _)| name.starts_with(start)).collect();
    under.sort_unstable_by(|a, b| a.0.cmp(b.0));
    under.dedup_by(|a, b| a.0 == b.0);
    let mut chosen = Vec::new();
    cover(&under, start.len(), &mut chosen)?;
    Ok(chosen)
}

/// Covers `names` (sorted, all sharing their first `depth` bytes) with the shortest pure prefixes.
fn cover(names: &[(&str, Want)], depth: usize, chosen: &mut Vec<String>) -> Result<(), Inseparable> {
    let Some(&(first, _)) = names.first() else { return Ok(()) };
    if !names.iter().any(|(_, want)| *want == Want::Cover) {
        return Ok(());
    }
    let avoid = names.iter().find(|(_, want)| *want == Want::Avoid);
    if avoid.is_none() && depth >= MIN_FILTER_LEN {
        chosen.push(first[..depth].to_string());
        return Ok(());
    }
    if let (Some(&(cover, _)), Some(&(avoid, _))) =
        (names.iter().find(|(name, want)| name.len() == depth && *want == Want::Cover), avoid)
    {
        return Err(Inseparable { cover: cover.to_string(), avoid: avoid.to_string() });
    }
    let longer: Vec<(&str, Want)> = names.iter().copied().filter(|(name, _)| name.len() > depth).collect();
    for group in longer.chunk_by(|a, b| a.0.as_bytes()[depth] == b.0.as_bytes()[depth]) {
        cover(group, depth + 1, chosen)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Want::{Avoid, Cover, Either};

    #[test]
    fn a_glob_covering_everything_under_its_start_is_its_start() {
        let names = [("prod/api", Cover), ("prod/web", Cover), ("dev/api", Avoid)];
        assert_eq!(choose("prod/", &names), Ok(vec!["prod/".to_string()]));
    }

    #[test]
    fn names_left_out_under_the_start_are_steered_around() {
        // prod/* leaves out prod/eu/api: prod/a and prod/w cover the rest.
        let names = [("prod/api", Cover), ("prod/web", Cover), ("prod/eu/api", Avoid), ("prod/admin", Cover)];
        assert_eq!(choose("prod/", &names), Ok(vec!["prod/a".to_string(), "prod/w".to_string()]));
    }

    #[test]
    fn a_name_that_prefixes_one_left_out_cannot_be_expressed() {
        let names = [("prod/api", Cover), ("prod/api/v2", Avoid)];
        let err = choose("prod/", &names).expect_err("inseparable");
        assert_eq!(err, Inseparable { cover: "prod/api".into(), avoid: "prod/api/v2".into() });
    }

    #[test]
    fn exact_names_are_their_own_prefix_when_nothing_else_starts_with_them() {
        assert_eq!(choose("billing", &[("billing", Cover), ("bill", Avoid)]), Ok(vec!["billing".to_string()]));
        let err = choose("billing", &[("billing", Cover), ("billing-v2", Avoid)]).expect_err("inseparable");
        assert_eq!(err.avoid, "billing-v2");
    }

    #[test]
    fn names_either_way_widen_the_prefix() {
        let names = [("prod/api", Cover), ("prod/web", Either), ("prod/eu/x", Either)];
        assert_eq!(choose("prod/", &names), Ok(vec!["prod/".to_string()]));
    }

    #[test]
    fn prefixes_are_at_least_two_characters() {
        let names = [("ab", Cover), ("ac", Cover), ("ad", Cover)];
        assert_eq!(choose("", &names), Ok(vec!["ab".into(), "ac".into(), "ad".into()]));
    }

    #[test]
    fn nothing_to_cover_chooses_nothing() {
        assert_eq!(choose("prod/", &[("prod/api", Either), ("prod/x", Avoid)]), Ok(vec![]));
        assert_eq!(choose("prod/", &[]), Ok(vec![]));
    }

    #[test]
    fn exact_prefixes_only_for_a_literal_folder_and_double_star() {
        assert_eq!(exact_prefix("prod/**"), Some("prod/"));
        assert_eq!(exact_prefix("team/eu/**"), Some("team/eu/"));
        assert_eq!(exact_prefix("**"), Some(""));
        assert_eq!(exact_prefix("prod/*"), None);
        assert_eq!(exact_prefix("prod-**"), None);
        assert_eq!(exact_prefix("*/prod/**"), None);
        assert_eq!(literal_start("team-[ab]/*"), "team-");
    }
}
