//! Tag rules for pushed images: allowed and forbidden patterns (regular expressions matched against the
//! whole tag) and whether digest-only pushes are allowed. Pure: a violation is reported, never acted on.

use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::mode::Mode;
use crate::section::{set, At, Problem, Section};

/// Rules for the tags of pushed images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTagSettings {
    /// Mode (`off`: not checked).
    pub mode: Mode,
    /// Regular expressions a tag must match one of; empty allows any.
    pub allowed: Vec<String>,
    /// Regular expressions no tag may match.
    pub forbidden: Vec<String>,
    /// Whether digest-only pushes are allowed.
    pub allow_untagged: bool,
}

/// `image_tags` keys: rules for the tag of every pushed image. Violations are findings and alerts; images
/// are never deleted or retagged.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageTagsOverride {
    /// Mode (`audit` and `enforce` both report; nothing is changed).
    pub mode: Option<Mode>,
    /// Regular expressions a tag must match one of (whole tag); empty allows any.
    pub allowed: Option<Vec<String>>,
    /// Regular expressions no tag may match (whole tag).
    pub forbidden: Option<Vec<String>>,
    /// Whether digest-only pushes (no tag) are allowed.
    pub allow_untagged: Option<bool>,
}

impl Section for ImageTagSettings {
    type Layer = ImageTagsOverride;

    fn nothing() -> Self {
        Self { mode: Mode::Off, allowed: Vec::new(), forbidden: Vec::new(), allow_untagged: true }
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &ImageTagsOverride, _at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.allowed, &layer.allowed);
        set(&mut self.forbidden, &layer.forbidden);
        set(&mut self.allow_untagged, &layer.allow_untagged);
        Vec::new()
    }

    /// Every pattern compiles.
    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (key, patterns) in [("allowed", &self.allowed), ("forbidden", &self.forbidden)] {
            for pattern in patterns {
                if let Err(error) = compile(pattern) {
                    let message = format!("`{pattern}` is not a valid regular expression: {error}");
                    problems.push(at.problem(key, message));
                }
            }
        }
        problems
    }
}

/// Compiles a tag pattern so that it must match the whole tag. The pattern is first parsed on its own, so a
/// pattern such as `latest)|(.*` can't close the anchoring group and match every tag.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(pattern)?;
    Regex::new(&format!("^(?:{pattern})$"))
}

/// What is wrong with a pushed image's tag (`""` or `None`: a digest-only push); empty when nothing is.
pub fn violations(settings: &ImageTagSettings, tag: Option<&str>) -> Vec<String> {
    if settings.mode == Mode::Off {
        return Vec::new();
    }
    let Some(tag) = tag.filter(|t| !t.is_empty()) else {
        return if settings.allow_untagged {
            Vec::new()
        } else {
            vec!["the image was pushed without a tag, and untagged pushes are not allowed".to_string()]
        };
    };
    let matches = |pattern: &String| compile(pattern).is_ok_and(|re| re.is_match(tag));
    let mut problems = Vec::new();
    if let Some(pattern) = settings.forbidden.iter().find(|p| matches(p)) {
        problems.push(format!("the tag `{tag}` is forbidden (matches `{pattern}`)"));
    }
    if !settings.allowed.is_empty() && !settings.allowed.iter().any(matches) {
        let allowed = settings.allowed.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
        problems.push(format!("the tag `{tag}` matches none of the allowed patterns ({allowed})"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(allowed: &[&str], forbidden: &[&str], allow_untagged: bool) -> ImageTagSettings {
        ImageTagSettings {
            mode: Mode::Audit,
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
            forbidden: forbidden.iter().map(|s| s.to_string()).collect(),
            allow_untagged,
        }
    }

    const SEMVER: &str = r"v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?";
    const GIT_SHA: &str = "[0-9a-f]{7,40}";

    #[test]
    fn allowed_patterns_match_the_whole_tag() {
        let s = settings(&[SEMVER, GIT_SHA], &[], true);
        for good in ["1.2.3", "v10.0.1-rc.1", "3f2a9c1", "0123456789abcdef0123456789abcdef01234567"] {
            assert!(violations(&s, Some(good)).is_empty(), "{good}");
        }
        for bad in ["latest", "1.2", "v1.2.3 ", "x1.2.3", "3f2a9c", "prod-1.2.3"] {
            let found = violations(&s, Some(bad));
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert!(found[0].contains("none of the allowed"), "{found:?}");
        }
    }

    #[test]
    fn forbidden_tags_are_reported_even_when_allowed() {
        let s = settings(&[], &["latest", "dev-.*"], true);
        assert!(violations(&s, Some("latest"))[0].contains("forbidden"));
        assert!(violations(&s, Some("dev-42"))[0].contains("`dev-.*`"));
        assert!(violations(&s, Some("latest-stable")).is_empty(), "whole-tag match only");
        let both = settings(&["latest"], &["latest"], true);
        assert_eq!(violations(&both, Some("latest")).len(), 1);
    }

    #[test]
    fn untagged_pushes_follow_allow_untagged() {
        let strict = settings(&[SEMVER], &[], false);
        assert!(violations(&strict, Some(""))[0].contains("without a tag"));
        assert!(violations(&strict, None)[0].contains("without a tag"));
        let lenient = settings(&[SEMVER], &[], true);
        assert!(violations(&lenient, Some("")).is_empty(), "allowed patterns don't apply to untagged pushes");
    }

    #[test]
    fn off_checks_nothing() {
        let mut s = settings(&[SEMVER], &["latest"], false);
        s.mode = Mode::Off;
        assert!(violations(&s, Some("latest")).is_empty());
        assert!(violations(&s, None).is_empty());
    }
}
