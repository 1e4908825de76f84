//! Which registry something concerns: an account and a region.

use serde::Serialize;

/// The account and region an event came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// Account ID.
    pub account: String,
    /// Region.
    pub region: String,
}

impl Origin {
    /// The account and region of a repository ARN (`arn:aws:ecr:REGION:ACCOUNT:repository/NAME`).
    pub fn of_repository_arn(arn: &str) -> Option<Self> {
        let arn = crate::observed::RepositoryArn::parse(arn)?;
        Some(Self { account: arn.account.to_string(), region: arn.region.to_string() })
    }

    /// The account and region of a Lambda function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:ALIAS]`).
    pub fn of_function_arn(arn: &str) -> Option<Self> {
        let arn = crate::arn::Arn::parse(arn)?;
        let fits = arn.service == "lambda"
            && !arn.region.is_empty()
            && crate::arn::is_account_id(arn.account)
            && arn.resource.starts_with("function:");
        fits.then(|| Self { account: arn.account.to_string(), region: arn.region.to_string() })
    }

    /// The name of the repository an event's resource ARN names, or why the event is not this registry's to
    /// act on: not an ECR repository ARN, or another account's or region's repository.
    pub fn repository_in<'a>(&self, arn: &'a str) -> Result<&'a str, String> {
        let Some(parsed) = crate::observed::RepositoryArn::parse(arn) else {
            return Err(format!("`{arn}` is not an ECR repository ARN"));
        };
        if parsed.account != self.account || parsed.region != self.region {
            return Err(format!(
                "`{arn}` is a repository of account {} in {}, not of the event's registry ({} in {})",
                parsed.account, parsed.region, self.account, self.region
            ));
        }
        Ok(parsed.name)
    }

    /// The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        match self.region.as_str() {
            r if r.starts_with("cn-") => "aws-cn",
            r if r.starts_with("us-gov-") => "aws-us-gov",
            _ => "aws",
        }
    }

    /// The ARN of repository `name` in this account and region.
    pub fn repository_arn(&self, name: &str) -> String {
        format!("arn:{}:ecr:{}:{}:repository/{name}", self.partition(), self.region, self.account)
    }
}
