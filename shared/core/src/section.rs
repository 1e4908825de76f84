//! What every section of a baseline's `defaults` and rules has in common: the keys a layer may set, the settings
//! they resolve to, how a layer is laid over them, and the checks of the result. Each section implements
//! [`Section`] in the module of the control (or the feature) it configures; [`crate::controls`] lists the
//! sections once, and that list makes the baseline's `defaults`, its rules and the resolved settings.

use std::fmt::Debug;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::mode::Mode;

/// One section of the baseline, resolved for a repository.
pub trait Section: Clone + PartialEq + Debug {
    /// The section as a baseline layer writes it: every key optional, unknown keys refused.
    type Layer: Clone + Default + Debug + DeserializeOwned + JsonSchema;

    /// The settings before any layer: the section off, every value empty (the built-in baseline is laid on it).
    fn nothing() -> Self;

    /// The section's mode.
    fn mode_mut(&mut self) -> &mut Mode;

    /// Lays `layer` over the settings: a key that is present replaces the value beneath it, maps are merged key by
    /// key. Problems name their key under `at`, the section's path (`rules[2].lifecycle_policy`).
    fn merge(&mut self, layer: &Self::Layer, at: At<'_>) -> Vec<Problem>;

    /// What is wrong with each value as AWS (and ecr-warden) would take it; `at` as in [`Section::merge`].
    fn value_problems(&self, at: At<'_>) -> Vec<Problem>;

    /// What values from different layers get wrong together (a key from one layer, the key it needs or
    /// contradicts from another): cheap, as it is checked again for every repository.
    fn combination_problems(&self, _at: At<'_>) -> Vec<Problem> {
        Vec::new()
    }
}

/// Replaces `target` with `value` when the layer sets it.
pub(crate) fn set<T: Clone>(target: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *target = value.clone();
    }
}

/// Where a section sits in a baseline, shown as its key path (`rules[2].lifecycle_policy`): problems start with it.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// The layer: `defaults`, `rules[2]`, `settings for `team-a/api``.
    pub layer: &'a str,
    /// The section's key.
    pub section: &'static str,
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.layer, self.section)
    }
}

impl At<'_> {
    /// A problem with the key `key` of this section (`""`: the section itself).
    pub fn problem(&self, key: &str, message: impl Into<String>) -> Problem {
        let path = if key.is_empty() { self.to_string() } else { format!("{self}.{key}") };
        Problem { path, message: message.into(), position: None }
    }
}

/// One thing wrong with a baseline: the key it concerns and what is wrong, and where the key is in the text when
/// the baseline is TOML and the key can be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key path (`rules[2].scanning.frequency`); empty when the problem is the text itself (not TOML, say).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Where the key (or the deepest part of it the text has) is.
    pub position: Option<Position>,
}

impl Problem {
    /// A problem with the key `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into(), position: None }
    }

    /// Several problems on one line, separated by `; `.
    pub fn on_one_line(problems: &[Problem]) -> String {
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    }

    /// The same problem, its path taken as relative to `prefix` (`presets[0]` under `defaults.lifecycle_policy`).
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() { prefix.to_string() } else { format!("{prefix}.{}", self.path) };
        Self { path, ..self }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(Position { line, column }) = self.position {
            write!(f, "line {line}, column {column}: ")?;
        }
        match self.path.is_empty() {
            true => f.write_str(&self.message),
            false => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// A place in a text, both counted from 1 (the column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}
