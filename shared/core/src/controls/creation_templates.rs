//! Repository creation templates, a registry-level control (`[creation_templates]`): the settings ECR gives the
//! repositories it creates itself (pull through cache, replication, create on push), derived from the baseline,
//! because such a repository starts without the baseline and its encryption can never be changed afterwards.
//!
//! One template for `ROOT` (every repository no other template covers: the defaults) and one for each rule glob
//! naming a whole namespace (`team-a/**` → prefix `team-a`: "a prefix of prod would apply to all repositories
//! beginning with prod/", API reference, `CreateRepositoryCreationTemplate`). A namespace's template carries what
//! every repository in it gets whatever its name: the defaults and the rules covering the whole namespace
//! ([`Baseline::resolve_namespace`]): tag mutability and its exclusions, encryption (the first of the baseline's
//! keys), the lifecycle policy, the required repository policy statements and the required tags with a default.
//!
//! ecr-warden owns the templates whose description starts with [`OWNER_MARK`]: it creates them, updates them when
//! they drift and deletes them when the baseline no longer derives them (printed in full). A template someone
//! else made for a prefix the baseline derives is a violation and is never overwritten; others are left alone.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{ControlId, Description, RegistryJudgement, Resolved, TagMutabilityTarget};
use crate::baseline::Baseline;
use crate::mode::Mode;
use crate::observed::EncryptionType;
use crate::policy;
use crate::section::Problem;
use crate::vulnerabilities::Severity;

/// What governing the templates calls. Creating or updating a template also needs `ecr:CreateRepository`, and
/// `ecr:PutLifecyclePolicy` / `ecr:SetRepositoryPolicy` when it carries those policies (ECR user guide, "IAM
/// permissions for creating repository creation templates"); passing the custom role needs `iam:PassRole`.
pub const PERMISSIONS: &[&str] = &[
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:UpdateRepositoryCreationTemplate",
];

/// How the description of a template ecr-warden owns starts.
pub const OWNER_MARK: &str = "Managed by ecr-warden";

/// The prefix of the template for every repository no other template covers.
pub const ROOT: &str = "ROOT";

/// The scenarios a template applies to (API reference, `RCTAppliedFor`).
pub const APPLIED_FOR: &[&str] = &["CREATE_ON_PUSH", "PULL_THROUGH_CACHE", "REPLICATION"];

/// The creation templates control's description.
pub(super) const CREATION_TEMPLATES: Description = Description {
    id: ControlId::CreationTemplates,
    section: "creation_templates (top level, registry-wide)",
    checks: "The registry has a repository creation template for ROOT (the defaults) and for each rule glob naming a \
             whole namespace (`team-a/**` -> `team-a`), each carrying the tag mutability, encryption, lifecycle \
             policy, required repository policy statements and default tags the baseline gives every repository \
             there, for the scenarios of `applied_for`.",
    fixes: "CreateRepositoryCreationTemplate for a missing template, UpdateRepositoryCreationTemplate for one \
            ecr-warden made that drifted, DeleteRepositoryCreationTemplate for one it made that the baseline no \
            longer derives (printed in full). A template someone else made is reported, never changed.",
    permissions: PERMISSIONS,
    reads: &[],
    severity: Severity::Medium,
    security_hub: None,
    config_rule: None,
    changed_by: &[
        "CreateRepositoryCreationTemplate",
        "UpdateRepositoryCreationTemplate",
        "DeleteRepositoryCreationTemplate",
    ],
};

/// The `[creation_templates]` section as written.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreationTemplatesFile {
    /// Mode (default `off`).
    pub mode: Option<Mode>,
    /// The scenarios the templates apply to (default all: `CREATE_ON_PUSH`, `PULL_THROUGH_CACHE`, `REPLICATION`).
    pub applied_for: Option<Vec<String>>,
    /// The role ECR assumes to create repositories from the templates; needed when they carry a KMS key or tags
    /// (ECR user guide, "Creating a repository creation template").
    pub custom_role_arn: Option<String>,
}

/// The creation templates settings, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreationTemplatesSettings {
    /// Mode.
    pub mode: Mode,
    /// The scenarios the templates apply to.
    pub applied_for: BTreeSet<String>,
    /// The role ECR assumes.
    pub custom_role_arn: Option<String>,
}

impl CreationTemplatesSettings {
    /// Reads and checks the section; every problem goes to `problems`, named `creation_templates.<key>`.
    pub fn from_file(file: Option<&CreationTemplatesFile>, problems: &mut Vec<Problem>) -> Self {
        let Some(file) = file else { return Self::default() };
        let applied_for: BTreeSet<String> = match &file.applied_for {
            Some(list) => list.iter().cloned().collect(),
            None => APPLIED_FOR.iter().map(|s| s.to_string()).collect(),
        };
        for scenario in applied_for.iter().filter(|s| !APPLIED_FOR.contains(&s.as_str())) {
            let known = APPLIED_FOR.join(", ");
            problems
                .push(Problem::new("creation_templates.applied_for", format!("`{scenario}` is not one of {known}")));
        }
        if applied_for.is_empty() {
            problems.push(Problem::new("creation_templates.applied_for", "name at least one scenario"));
        }
        let role = file.custom_role_arn.clone().filter(|arn| !arn.is_empty());
        if let Some(arn) =
            role.as_deref().filter(|arn| !super::repository_policy::is_role_pattern(arn) || arn.contains('*'))
        {
            problems.push(Problem::new("creation_templates.custom_role_arn", format!("`{arn}` is not a role ARN")));
        }
        Self { mode: file.mode.unwrap_or(Mode::Off), applied_for, custom_role_arn: role }
    }
}

/// A template's encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateEncryption {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    /// The KMS key, when one is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// A repository creation template, as ECR holds it (every optional part `None` or empty when absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationTemplate {
    /// The namespace (`team-a`), or `ROOT`.
    pub prefix: String,
    /// Its description (ecr-warden's start with [`OWNER_MARK`]).
    pub description: String,
    /// `MUTABLE`, `IMMUTABLE`, `IMMUTABLE_WITH_EXCLUSION`, ...; `None`: ECR's default, `MUTABLE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tag_mutability: Option<String>,
    /// Wildcard filters of tags left mutable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<String>,
    /// Encryption; `None`: ECR's default, `AES256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<TemplateEncryption>,
    /// The lifecycle policy text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<String>,
    /// The repository policy text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_policy: Option<String>,
    /// Tags for the repositories created.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_tags: BTreeMap<String, String>,
    /// The scenarios it applies to.
    pub applied_for: BTreeSet<String>,
    /// The role ECR assumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_role_arn: Option<String>,
}

impl CreationTemplate {
    /// Whether ecr-warden made it.
    pub fn owned(&self) -> bool {
        self.description.starts_with(OWNER_MARK)
    }

    /// The parts where `self` differs from `want` (ignoring the description), by name.
    pub fn differences(&self, want: &CreationTemplate) -> Vec<&'static str> {
        let mutability = |t: &CreationTemplate| t.image_tag_mutability.clone().unwrap_or_else(|| "MUTABLE".into());
        // Exclusions mean something only beside a `..._WITH_EXCLUSION` setting.
        let exclusions = |t: &CreationTemplate| match mutability(t).ends_with("_WITH_EXCLUSION") {
            true => t.image_tag_mutability_exclusion_filters.iter().cloned().collect::<BTreeSet<_>>(),
            false => BTreeSet::new(),
        };
        let encryption = |t: &CreationTemplate| {
            t.encryption_configuration.clone().filter(|e| e.encryption_type != "AES256" || e.kms_key.is_some())
        };
        let mut differences = Vec::new();
        if mutability(self) != mutability(want) || exclusions(self) != exclusions(want) {
            differences.push("tag mutability");
        }
        if encryption(self) != encryption(want) {
            differences.push("encryption");
        }
        if !same_json(self.lifecycle_policy.as_deref(), want.lifecycle_policy.as_deref()) {
            differences.push("lifecycle policy");
        }
        if !same_policy(self.repository_policy.as_deref(), want.repository_policy.as_deref()) {
            differences.push("repository policy");
        }
        if self.resource_tags != want.resource_tags {
            differences.push("resource tags");
        }
        if self.applied_for != want.applied_for {
            differences.push("applied for");
        }
        if self.custom_role_arn != want.custom_role_arn {
            differences.push("custom role");
        }
        differences
    }
}

/// Whether two JSON texts mean the same value (both absent counts as the same).
fn same_json(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |text: Option<&str>| text.map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::String(t.into())));
    parse(a) == parse(b)
}

/// Whether two policy texts hold the same statements, in meaning (ECR stores policies in its own form).
fn same_policy(a: Option<&str>, b: Option<&str>) -> bool {
    let statements = |text: Option<&str>| text.map(|t| policy::PolicyDocument::parse(t).map(|d| d.statements));
    match (statements(a), statements(b)) {
        (None, None) => true,
        (Some(Ok(a)), Some(Ok(b))) => {
            a.len() == b.len() && a.iter().all(|s| b.iter().any(|w| policy::same_statement(s, w)))
        }
        _ => false,
    }
}

/// The templates the baseline derives for a registry in `partition` and `region` (where the required statements'
/// ARNs point): `ROOT`, then one per namespace glob, in the order the rules name them.
pub fn wanted(baseline: &Baseline, partition: &str, region: &str) -> Result<Vec<CreationTemplate>, Vec<Problem>> {
    let settings = &baseline.creation_templates;
    // (the template's prefix, the namespace it covers: "" for every repository)
    let mut namespaces = vec![(ROOT.to_string(), String::new())];
    for glob in baseline.rule_globs() {
        let Some(start) = crate::replication::prefixes::exact_prefix(glob.as_str()) else { continue };
        let namespace = start.trim_end_matches('/').to_string();
        if namespace.is_empty() || namespaces.iter().any(|(prefix, _)| *prefix == namespace) {
            continue;
        }
        namespaces.push((namespace.clone(), namespace));
    }
    let mut templates = Vec::new();
    for (prefix, namespace) in namespaces {
        let want = baseline.resolve_namespace(&namespace)?;
        templates.push(template(&prefix, &want, settings, partition, region));
    }
    Ok(templates)
}

/// The template carrying `want` for `prefix`.
fn template(
    prefix: &str,
    want: &Resolved,
    settings: &CreationTemplatesSettings,
    partition: &str,
    region: &str,
) -> CreationTemplate {
    let on = |mode: Mode| mode != Mode::Off;
    let (image_tag_mutability, exclusions) = match (on(want.tag_mutability.mode), want.tag_mutability.target) {
        (false, _) => (None, Vec::new()),
        (true, TagMutabilityTarget::Immutable) => (Some("IMMUTABLE".to_string()), Vec::new()),
        (true, TagMutabilityTarget::ImmutableWithExclusion) => {
            (Some("IMMUTABLE_WITH_EXCLUSION".to_string()), want.tag_mutability.exclusions.clone())
        }
    };
    let encryption_type = match want.encryption.kind {
        EncryptionType::Aes256 => None,
        EncryptionType::Kms => Some("KMS"),
        EncryptionType::KmsDsse => Some("KMS_DSSE"),
    };
    let encryption_configuration = encryption_type.filter(|_| on(want.encryption.mode)).map(|kind| {
        TemplateEncryption { encryption_type: kind.to_string(), kms_key: want.encryption.kms_keys.first().cloned() }
    });
    let lifecycle_policy =
        Some(want.lifecycle_policy.policy.clone()).filter(|p| on(want.lifecycle_policy.mode) && !p.is_empty());
    let statements = want.repository_policy.required_statements(partition, region);
    let repository_policy = (on(want.repository_policy.mode) && !statements.is_empty())
        .then(|| json!({"Version": "2012-10-17", "Statement": statements}).to_string());
    let resource_tags = match on(want.tags.mode) {
        true => want.tags.required.iter().filter_map(|(k, t)| Some((k.clone(), t.default.clone()?))).collect(),
        false => BTreeMap::new(),
    };
    CreationTemplate {
        prefix: prefix.to_string(),
        description: format!("{OWNER_MARK}: derived from the baseline (changes made by hand are undone)"),
        image_tag_mutability,
        image_tag_mutability_exclusion_filters: exclusions,
        encryption_configuration,
        lifecycle_policy,
        repository_policy,
        resource_tags,
        applied_for: settings.applied_for.clone(),
        custom_role_arn: settings.custom_role_arn.clone(),
    }
}

/// What the baseline gets wrong for templates, found once it is loaded: a template carrying a KMS key or tags
/// without a custom role ("If you intend to use KMS keys, resource tags, or a combination of both in one or more
/// templates", ECR needs one: ECR user guide, "Creating a repository creation template").
pub fn problems(baseline: &Baseline) -> Vec<Problem> {
    let settings = &baseline.creation_templates;
    if settings.mode == Mode::Off {
        return Vec::new();
    }
    let templates = match wanted(baseline, "aws", "") {
        Ok(templates) => templates,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    for template in &templates {
        let key = template.encryption_configuration.as_ref().is_some_and(|e| e.kms_key.is_some());
        let needs_role = !template.resource_tags.is_empty() || key;
        if needs_role && settings.custom_role_arn.is_none() {
            problems.push(Problem::new(
                "creation_templates.custom_role_arn",
                format!(
                    "the template for {} carries tags or a KMS key, for which ECR needs a custom role: name one \
                     (trusting ecr.amazonaws.com, allowed ecr:CreateRepository, ecr:ReplicateImage, ecr:TagResource, \
                     kms:CreateGrant, kms:RetireGrant, kms:DescribeKey)",
                    template.prefix
                ),
            ));
            break;
        }
    }
    problems
}

/// One write to the registry's templates.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateChange {
    /// `CreateRepositoryCreationTemplate`.
    Create(CreationTemplate),
    /// `UpdateRepositoryCreationTemplate` (every part given, so nothing is left from before).
    Update(CreationTemplate),
    /// `DeleteRepositoryCreationTemplate` of this prefix.
    Delete(String),
}

/// What the registry's templates come to: the fix is the writes to make, in order.
pub type Judgement = RegistryJudgement<Vec<TemplateChange>>;

/// Judges the registry's templates `have` against the derived ones `want`.
pub fn judge(want: &[CreationTemplate], have: &[CreationTemplate]) -> Judgement {
    let (mut findings, mut conflicts) = (Vec::new(), Vec::new());
    let (mut changes, mut writes, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for template in want {
        let prefix = &template.prefix;
        let Some(there) = have.iter().find(|h| h.prefix == *prefix) else {
            findings.push(format!("no template for {prefix}"));
            changes.push(format!("create the template for {prefix}"));
            writes.push(TemplateChange::Create(template.clone()));
            continue;
        };
        let differences = there.differences(template).join(", ");
        if differences.is_empty() {
            continue;
        }
        if !there.owned() {
            conflicts.push(format!("{prefix} ({differences})"));
            continue;
        }
        findings.push(format!("the template for {prefix} differs: {differences}"));
        changes.push(format!("update the template for {prefix} (as it was: printed in full)"));
        writes.push(TemplateChange::Update(template.clone()));
        removed.push(serde_json::to_value(there).unwrap_or_default());
    }
    for stale in have.iter().filter(|h| h.owned() && !want.iter().any(|w| w.prefix == h.prefix)) {
        findings.push(format!("the template for {} is no longer derived from the baseline", stale.prefix));
        changes.push(format!("delete the template for {} (printed in full)", stale.prefix));
        writes.push(TemplateChange::Delete(stale.prefix.clone()));
        removed.push(serde_json::to_value(stale).unwrap_or_default());
    }
    if !conflicts.is_empty() {
        return Judgement::Violation {
            finding: format!("templates ecr-warden didn't make differ from the baseline's: {}", conflicts.join("; ")),
            remedy: format!(
                "delete them, or start their description with \"{OWNER_MARK}\" to let ecr-warden manage them"
            ),
        };
    }
    if writes.is_empty() {
        return Judgement::Compliant;
    }
    Judgement::Drift { finding: findings.join("; "), changes, fix: writes, removed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(text: &str) -> Baseline {
        match Baseline::parse("b.toml", text) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    const SAMPLE: &str = r#"
        [creation_templates]
        mode = "enforce"
        custom_role_arn = "arn:aws:iam::123456789012:role/ecr-templates"

        [defaults.encryption]
        type = "KMS"
        kms_keys = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]

        [[rules]]
        match = "team-a/**"
        tag_mutability = { target = "IMMUTABLE_WITH_EXCLUSION", exclusions = ["latest"] }
        tags = { required = { team = { default = "a" } } }

        [[rules]]
        match = "team-a/*-dev"
        tag_mutability = { mode = "off" }
    "#;

    #[test]
    fn root_and_each_namespace_glob_get_a_template_carrying_what_covers_the_whole_namespace() {
        let templates = wanted(&baseline(SAMPLE), "aws", "us-east-1").expect("derived");
        let prefixes: Vec<&str> = templates.iter().map(|t| t.prefix.as_str()).collect();
        assert_eq!(prefixes, ["ROOT", "team-a"], "team-a/*-dev names no whole namespace");
        let (root, team) = (&templates[0], &templates[1]);
        assert_eq!(root.image_tag_mutability.as_deref(), Some("IMMUTABLE"));
        assert_eq!(team.image_tag_mutability.as_deref(), Some("IMMUTABLE_WITH_EXCLUSION"));
        assert_eq!(team.image_tag_mutability_exclusion_filters, ["latest"], "the partial rule doesn't count");
        let key = root.encryption_configuration.as_ref().and_then(|e| e.kms_key.as_deref());
        assert!(key.is_some_and(|k| k.ends_with("1234567890ab")), "{root:?}");
        assert_eq!(team.resource_tags.get("team").map(String::as_str), Some("a"));
        assert_eq!(team.resource_tags.get("managed-by").map(String::as_str), Some("ecr-warden"));
        assert!(root.lifecycle_policy.is_some(), "the built-in lifecycle policy");
        assert_eq!(root.applied_for.len(), 3);
        assert!(root.owned() && root.description.starts_with("Managed by ecr-warden: derived from the baseline"));
    }

    #[test]
    fn missing_templates_are_created_drifted_ones_of_ours_updated_and_theirs_reported() {
        let want = wanted(&baseline(SAMPLE), "aws", "us-east-1").expect("derived");
        let Judgement::Drift { fix: writes, .. } = judge(&want, &[]) else { panic!("drift expected") };
        assert_eq!(writes, [TemplateChange::Create(want[0].clone()), TemplateChange::Create(want[1].clone())]);
        assert_eq!(judge(&want, &want), Judgement::Compliant);

        let mut edited = want[1].clone();
        edited.image_tag_mutability = Some("MUTABLE".into());
        let Judgement::Drift { changes, fix: writes, removed, .. } = judge(&want, &[want[0].clone(), edited.clone()])
        else {
            panic!("drift expected")
        };
        assert_eq!(changes, ["update the template for team-a (as it was: printed in full)"]);
        assert_eq!(writes, [TemplateChange::Update(want[1].clone())]);
        assert_eq!(removed, [serde_json::to_value(&edited).expect("JSON")], "printed in full");

        let mut theirs = edited;
        theirs.description = "the platform team's".into();
        let Judgement::Violation { finding, .. } = judge(&want, &[want[0].clone(), theirs]) else {
            panic!("violation expected")
        };
        assert!(finding.contains("team-a (tag mutability)"), "{finding}");
    }

    #[test]
    fn a_stale_template_of_ours_is_deleted_and_others_are_left_alone() {
        let want = wanted(&baseline(SAMPLE), "aws", "us-east-1").expect("derived");
        let mut stale = want[1].clone();
        stale.prefix = "team-old".into();
        let mut other = want[1].clone();
        other.prefix = "someone".into();
        other.description = String::new();
        let have = [want[0].clone(), want[1].clone(), stale, other];
        let Judgement::Drift { fix: writes, .. } = judge(&want, &have) else { panic!("drift expected") };
        assert_eq!(writes, [TemplateChange::Delete("team-old".into())]);
    }

    /// ECR's defaults (no encryption given is AES256) and its stored forms (a policy in its own layout) are what
    /// was asked for.
    #[test]
    fn ecr_s_defaults_and_stored_forms_are_no_drift() {
        let off =
            "[creation_templates]\nmode = \"enforce\"\n[defaults]\ntags.mode = \"off\"\nencryption.mode = \"off\"\n";
        let want = wanted(&baseline(off), "aws", "us-east-1").expect("derived");
        let mut stored = want[0].clone();
        stored.encryption_configuration = Some(TemplateEncryption { encryption_type: "AES256".into(), kms_key: None });
        stored.lifecycle_policy = stored.lifecycle_policy.map(|p| {
            let value: Value = serde_json::from_str(&p).expect("JSON");
            serde_json::to_string_pretty(&value).expect("text")
        });
        assert_eq!(stored.differences(&want[0]), Vec::<&str>::new());
    }

    #[test]
    fn kms_or_tags_without_a_custom_role_and_bad_values_are_refused() {
        let text = SAMPLE.replace("custom_role_arn = \"arn:aws:iam::123456789012:role/ecr-templates\"\n", "");
        let error = Baseline::parse("b.toml", &text).expect_err("refused");
        assert!(
            error
                .to_string()
                .contains("creation_templates.custom_role_arn: the template for ROOT carries tags or a KMS key"),
            "{error}"
        );
        let error =
            Baseline::parse("b.toml", "[creation_templates]\napplied_for = [\"PUSH\"]\ncustom_role_arn = \"role\"\n")
                .expect_err("refused");
        let text = error.to_string();
        assert!(text.contains("`PUSH` is not one of") && text.contains("`role` is not a role ARN"), "{text}");
    }
}
