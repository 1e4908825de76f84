//! Where the baseline comes from: `--baseline FILE`, else the environment variable
//! `ECR_WARDEN_BASELINE` (a file path, or `ssm:<parameter name>`), else the built-in default.
//! `ECR_WARDEN_MODE=audit` then lowers every enforced control to audit (a global report-only switch).

use std::path::PathBuf;

use warden_aws::ssm::{self, ParameterError};
use warden_aws::SdkConfig;
use warden_core::baseline::{Baseline, BaselineError};

/// The environment variable naming the baseline.
pub(crate) const BASELINE_VAR: &str = "ECR_WARDEN_BASELINE";
/// The environment variable holding the global mode (`enforce`, the default, or `audit`).
pub(crate) const MODE_VAR: &str = "ECR_WARDEN_MODE";

/// Where a baseline is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselineSource {
    /// A TOML or JSON file.
    File(PathBuf),
    /// An SSM parameter.
    Ssm(String),
    /// The built-in default.
    Builtin,
}

/// Why the baseline couldn't be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file couldn't be read.
    #[error("can't read baseline file {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error (part of this message, not a separate cause: it is said once).
        error: std::io::Error,
    },
    /// The parameter couldn't be read.
    #[error(transparent)]
    Parameter(#[from] ParameterError),
    /// The baseline is invalid.
    #[error(transparent)]
    Invalid(#[from] BaselineError),
    /// `ECR_WARDEN_MODE` holds something else than `enforce` or `audit`.
    #[error("{MODE_VAR} must be `enforce` or `audit`, not `{0}`")]
    Mode(String),
}

impl BaselineSource {
    /// The source a command-line flag, else the environment, names.
    pub fn choose(flag: Option<PathBuf>, env_value: Option<String>) -> Self {
        match (flag, env_value.filter(|v| !v.is_empty())) {
            (Some(path), _) => BaselineSource::File(path),
            (None, Some(value)) => match value.strip_prefix("ssm:") {
                Some(name) => BaselineSource::Ssm(name.to_string()),
                None => BaselineSource::File(PathBuf::from(value)),
            },
            (None, None) => BaselineSource::Builtin,
        }
    }

    /// The source the flag or the process environment names.
    pub fn from_env(flag: Option<PathBuf>) -> Self {
        Self::from_env_or(flag, None)
    }

    /// The source the flag, else the process environment, else `fallback` (`ssm:NAME` or a path) names: what a
    /// deployed stack's functions read, when the caller's environment doesn't say.
    pub fn from_env_or(flag: Option<PathBuf>, fallback: Option<String>) -> Self {
        let env = std::env::var(BASELINE_VAR).ok().filter(|v| !v.is_empty());
        Self::choose(flag, env.or(fallback))
    }

    /// Reads and checks the baseline; the SDK configuration is used only for SSM.
    pub async fn load(&self, config: &SdkConfig) -> Result<Baseline, LoadError> {
        let mut baseline = match self {
            BaselineSource::Builtin => Baseline::builtin()?,
            BaselineSource::File(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|error| LoadError::Io { path: path.clone(), error })?;
                Baseline::parse(&path.display().to_string(), &text)?
            }
            BaselineSource::Ssm(name) => {
                let text = ssm::parameter(config, name).await?;
                Baseline::parse(&format!("ssm:{name}"), &text)?
            }
        };
        match std::env::var(MODE_VAR).ok().as_deref() {
            None | Some("") | Some("enforce") => {}
            Some("audit") => baseline.audit_only(),
            Some(other) => return Err(LoadError::Mode(other.to_string())),
        }
        Ok(baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_environment_then_the_builtin() {
        let flag = Some(PathBuf::from("b.toml"));
        assert_eq!(BaselineSource::choose(flag.clone(), Some("ssm:/x".into())), BaselineSource::File("b.toml".into()));
        assert_eq!(
            BaselineSource::choose(None, Some("ssm:/ecr-warden/baseline".into())),
            BaselineSource::Ssm("/ecr-warden/baseline".into())
        );
        assert_eq!(
            BaselineSource::choose(None, Some("/etc/b.json".into())),
            BaselineSource::File("/etc/b.json".into())
        );
        assert_eq!(BaselineSource::choose(None, Some(String::new())), BaselineSource::Builtin);
        assert_eq!(BaselineSource::choose(None, None), BaselineSource::Builtin);
    }
}
