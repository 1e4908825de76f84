//! The registry's signing configuration through the AWS SDK (`GetSigningConfiguration`,
//! `PutSigningConfiguration`).

use aws_sdk_ecr::types::{
    SigningConfiguration, SigningRepositoryFilter, SigningRepositoryFilterType, SigningRule as SdkRule,
};
use aws_sdk_ecr::Client;
use warden_core::controls::signing::SigningRule;
use warden_core::registry::RegistryError;

use crate::errors::{build_error, registry_error};

/// The registry's signing rules; none when it has no signing configuration.
pub(crate) async fn rules(client: &Client) -> Result<Vec<SigningRule>, RegistryError> {
    let output = match client.get_signing_configuration().send().await {
        Ok(output) => output,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_signing_configuration_not_found_exception()) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(registry_error("GetSigningConfiguration", "*", e)),
    };
    let rules = output.signing_configuration().map(SigningConfiguration::rules).unwrap_or_default();
    Ok(rules
        .iter()
        .map(|rule| SigningRule {
            signing_profile_arn: rule.signing_profile_arn().to_string(),
            repository_filters: rule.repository_filters().iter().map(|f| f.filter().to_string()).collect(),
        })
        .collect())
}

/// Puts `rules` as the whole signing configuration, sent once (`config`: no SDK retry; the caller reads afresh).
pub(crate) async fn put(
    client: &Client,
    rules: &[SigningRule],
    config: aws_sdk_ecr::config::Builder,
) -> Result<(), RegistryError> {
    const OPERATION: &str = "PutSigningConfiguration";
    let failed = |e: aws_sdk_ecr::error::BuildError| build_error(OPERATION, e);
    let mut sdk_rules = Vec::new();
    for rule in rules {
        let filters = rule
            .repository_filters
            .iter()
            .map(|f| {
                SigningRepositoryFilter::builder()
                    .filter(f)
                    .filter_type(SigningRepositoryFilterType::WildcardMatch)
                    .build()
                    .map_err(failed)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let builder = SdkRule::builder().signing_profile_arn(&rule.signing_profile_arn);
        // At least one filter when any is sent (API reference, `SigningRepositoryFilterList`: 1 to 100).
        let builder = builder.set_repository_filters(Some(filters).filter(|f| !f.is_empty()));
        sdk_rules.push(builder.build().map_err(failed)?);
    }
    let configuration = SigningConfiguration::builder().set_rules(Some(sdk_rules)).build().map_err(failed)?;
    client
        .put_signing_configuration()
        .signing_configuration(configuration)
        .customize()
        .config_override(config)
        .send()
        .await
        .map_err(|e| registry_error(OPERATION, "*", e))?;
    Ok(())
}
