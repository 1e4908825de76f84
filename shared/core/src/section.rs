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
    fn merge(&mut self, layer: &Self::Layer, at: At<'_>) -> Vec<String>;

    /// What is wrong with each value as AWS (and ecr-warden) would take it; `at` as in [`Section::merge`].
    fn value_problems(&self, at: At<'_>) -> Vec<String>;

    /// What values from different layers get wrong together (a key from one layer, the key it needs or
    /// contradicts from another): cheap, as it is checked again for every repository.
    fn combination_problems(&self, _at: At<'_>) -> Vec<String> {
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
