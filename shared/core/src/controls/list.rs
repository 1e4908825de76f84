//! The one list of the baseline's sections, in report order, each with its control where it has one. Adding a
//! control is adding its line at the end of this file (and its module); the macro makes everything else from it.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Control, Description, Encryption, LifecyclePolicy, RepositoryPolicy, Scanning, TagMutability, Tags};
use super::{
    EncryptionSettings, LifecyclePolicySettings, RepositoryPolicySettings, ScanningSettings, TagMutabilitySettings,
    TagsSettings,
};
use crate::glob::{NameGlob, OneOrMany};
use crate::image_tags::ImageTagSettings;
use crate::mode::Mode;
use crate::section::{At, Problem, Section};
use crate::vulnerabilities::VulnerabilitySettings;

/// Makes, from the list of sections: what a baseline layer may write ([`Overrides`], and [`Rule`], which adds the
/// repositories it matches), the settings they resolve to ([`Resolved`]) and the list of controls ([`ALL`]).
macro_rules! sections {
    ($( $(#[$doc:meta])* $key:ident : $settings:ty $(=> $control:expr)? ),* $(,)?) => {
        /// Settings for some or all controls; every key optional.
        #[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Overrides {
            $( $(#[$doc])* pub $key: Option<<$settings as Section>::Layer>, )*
        }

        /// One `[[rules]]` entry: the repositories it matches and what it overrides for them.
        #[derive(Debug, Clone, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Rule {
            /// Repository-name globs (one string or a list); the rule applies where any matches.
            #[serde(rename = "match")]
            pub matches: OneOrMany<NameGlob>,
            /// Only in these accounts (12-digit IDs); with `organizational_units`, in either. Neither: every account.
            #[serde(default)]
            pub accounts: Vec<String>,
            /// Only in accounts under these organizational units or roots (`ou-...`, `r-...`), at any depth.
            #[serde(default)]
            pub organizational_units: Vec<String>,
            $( $(#[$doc])* pub $key: Option<<$settings as Section>::Layer>, )*
        }

        impl Rule {
            /// The rule's settings as an [`Overrides`].
            pub fn overrides(&self) -> Overrides {
                Overrides { $( $key: self.$key.clone(), )* }
            }
        }

        /// Everything the controls want of one repository.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Resolved {
            $( $(#[$doc])* pub $key: $settings, )*
        }

        impl Resolved {
            /// Every section off, every value empty: what the built-in baseline is laid onto.
            pub(crate) fn nothing() -> Self {
                Self { $( $key: <$settings as Section>::nothing(), )* }
            }

            /// Lays one layer of overrides; `layer` names it in problems (`defaults`, `rules[2]`).
            pub(crate) fn apply(&mut self, overrides: &Overrides, layer: &str) -> Result<(), Vec<Problem>> {
                let mut problems = Vec::new();
                $(
                    if let Some(keys) = &overrides.$key {
                        problems.extend(self.$key.merge(keys, At { layer, section: stringify!($key) }));
                    }
                )*
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(problems)
                }
            }

            /// What only settings from different layers can get wrong together (see
            /// [`Section::combination_problems`]): all a repository's resolved settings and a pair of rules need
            /// checking, as values were each checked in the layer that set them.
            pub(crate) fn check_together(&self, layer: &str) -> Vec<Problem> {
                let mut problems = Vec::new();
                $( problems.extend(self.$key.combination_problems(At { layer, section: stringify!($key) })); )*
                problems
            }

            /// Every value as AWS would take it (see [`Section::value_problems`]).
            fn check_values(&self, layer: &str) -> Vec<Problem> {
                let mut problems = Vec::new();
                $( problems.extend(self.$key.value_problems(At { layer, section: stringify!($key) })); )*
                problems
            }

            /// Lowers every `enforce` to `audit` (a global audit-only switch).
            pub fn audit_only(&mut self) {
                $(
                    let mode = self.$key.mode_mut();
                    if *mode == Mode::Enforce {
                        *mode = Mode::Audit;
                    }
                )*
            }
        }

        /// Every repository control, in report order.
        pub const ALL: &[&dyn Control] = &[ $( $( &$control, )? )* ];
    };
}
sections! {
    /// Tag mutability control.
    tag_mutability: TagMutabilitySettings => TagMutability,
    /// Scanning control.
    scanning: ScanningSettings => Scanning,
    /// Encryption control.
    encryption: EncryptionSettings => Encryption,
    /// Lifecycle policy control.
    lifecycle_policy: LifecyclePolicySettings => LifecyclePolicy,
    /// Repository policy control.
    repository_policy: RepositoryPolicySettings => RepositoryPolicy,
    /// Tags control.
    tags: TagsSettings => Tags,
    /// Rules for the tags of pushed images.
    image_tags: ImageTagSettings,
    /// When scan findings become alerts.
    vulnerabilities: VulnerabilitySettings,
}

impl Resolved {
    /// Checks the settings of one layer: every value, and the settings together.
    pub(crate) fn check(&self, layer: &str) -> Vec<Problem> {
        let mut problems = self.check_together(layer);
        problems.extend(self.check_values(layer));
        problems
    }
}

/// The registry-level controls, in report order: each judges a setting of the whole registry and has its own
/// top-level section. Adding one is adding its line here (and its module).
pub const REGISTRY_LEVEL: &[&Description] = &[
    &super::replication::REPLICATION,
    &super::registry_policy::REGISTRY_POLICY,
    &super::creation_templates::CREATION_TEMPLATES,
    &super::pull_through_cache::PULL_THROUGH_CACHE_RULES,
    &super::signing::SIGNING,
];
