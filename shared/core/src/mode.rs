//! What a control does with what it finds: fix it, report it, or not look.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a control does with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Fix drift.
    Enforce,
    /// Report drift, change nothing.
    Audit,
    /// Don't look.
    #[default]
    Off,
}

impl Mode {
    /// The mode as written in a baseline.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}
