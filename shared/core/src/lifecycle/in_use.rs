//! Images in use, which a lifecycle policy must never expire. ECR's lifecycle policies know nothing of
//! deployments: "keep the last 10 images" expires the image a rarely deployed service still runs, and its next task
//! launch fails to pull. The baseline's `[in_use]` section names where running images are found (ECS tasks and
//! services, Lambda functions packaged as images, a list the user keeps); before a lifecycle policy is put, and in
//! every audit for the policy in place, the exact preview runs over the repository's images, and an image in use
//! that the policy would expire is a finding naming the image, the rule and who runs it.
//!
//! Uses are image references as ECS and Lambda give them: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME@sha256:...`
//! (a running container's `imageDigest`, a function's `ResolvedImageUri`) or `...:TAG` (a task definition's image,
//! resolved against the repository's images when judged). References to other registries are left out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{preview, Image, LifecyclePolicy, RuleAction};
use crate::origin::Origin;
use crate::section::Problem;

/// The `[in_use]` section: where images in use are found.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InUseFile {
    /// Running ECS tasks and the task definitions of ECS services (default false).
    pub ecs: Option<bool>,
    /// Lambda functions packaged as container images (default false).
    pub lambda: Option<bool>,
    /// Other images in use (Kubernetes, pipelines, ...): `NAME@sha256:...`, `NAME:TAG`, or a full
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/...` URI.
    #[serde(default)]
    pub images: Vec<String>,
}

/// Where images in use are found, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InUseSettings {
    /// Read running ECS tasks and services.
    pub ecs: bool,
    /// Read Lambda functions.
    pub lambda: bool,
    /// Images the user lists.
    pub images: Vec<String>,
}

impl InUseSettings {
    /// Reads and checks the section; problems are named `in_use.<key>`.
    pub fn from_file(file: Option<&InUseFile>, problems: &mut Vec<Problem>) -> Self {
        let Some(file) = file else { return Self::default() };
        for image in &file.images {
            if ImageRef::parse(image).is_none() {
                problems.push(Problem::new(
                    "in_use.images",
                    format!("`{image}` is not NAME@sha256:DIGEST, NAME:TAG or an ECR image URI"),
                ));
            }
        }
        Self { ecs: file.ecs.unwrap_or(false), lambda: file.lambda.unwrap_or(false), images: file.images.clone() }
    }

    /// Whether any source is named: only then are policies checked against images in use.
    pub fn is_on(&self) -> bool {
        self.ecs || self.lambda || !self.images.is_empty()
    }
}

/// Which image a reference names in its repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pin {
    /// By digest.
    Digest(String),
    /// By tag (resolved against the repository's images).
    Tag(String),
}

/// An image reference: which registry (if the reference says), repository and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `ACCOUNT.dkr.ecr.REGION...` when the reference is a full URI.
    pub host: Option<String>,
    /// The repository name.
    pub repository: String,
    /// The image.
    pub pin: Pin,
}

impl ImageRef {
    /// Parses `[HOST/]NAME@sha256:HEX`, `[HOST/]NAME:TAG` (a bare `NAME` is `NAME:latest`, as Docker reads it).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (host, rest) = match text.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') => (Some(first.to_string()), rest),
            _ => (None, text),
        };
        let (repository, pin) = match rest.split_once('@') {
            Some((name, digest)) => {
                let hex = digest.strip_prefix("sha256:")?;
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                (name, Pin::Digest(digest.to_string()))
            }
            None => match rest.rsplit_once(':') {
                Some((name, tag)) if !tag.is_empty() && !tag.contains('/') => (name, Pin::Tag(tag.to_string())),
                _ => (rest, Pin::Tag("latest".to_string())),
            },
        };
        let valid = !repository.is_empty() && repository.split('/').all(|part| !part.is_empty());
        valid.then(|| Self { host, repository: repository.to_string(), pin })
    }

    /// Whether the reference is to `origin`'s registry (a reference without a host is taken to be).
    pub fn is_in(&self, origin: &Origin) -> bool {
        match &self.host {
            None => true,
            Some(host) => {
                let prefix = format!("{}.dkr.ecr.{}.", origin.account, origin.region);
                host.starts_with(&prefix) && host.contains(".amazonaws.com")
            }
        }
    }
}

/// One image in use, and who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// The repository.
    pub repository: String,
    /// The image.
    pub pin: Pin,
    /// Who uses it: `ECS task arn:...`, `ECS service arn:...`, `Lambda function arn:...`, `the baseline's list`.
    pub user: String,
}

/// Every image in use in one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InUse {
    uses: Vec<ImageUse>,
}

impl InUse {
    /// Adds the image `reference` names, used by `user`, when it is in `origin`'s registry.
    pub fn add(&mut self, origin: &Origin, reference: &str, user: &str) {
        let Some(image) = ImageRef::parse(reference).filter(|image| image.is_in(origin)) else { return };
        let found = ImageUse { repository: image.repository, pin: image.pin, user: user.to_string() };
        if !self.uses.contains(&found) {
            self.uses.push(found);
        }
    }

    /// How many uses are known.
    pub fn len(&self) -> usize {
        self.uses.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.uses.is_empty()
    }

    /// The uses of images of `repository`.
    pub fn of(&self, repository: &str) -> Vec<&ImageUse> {
        self.uses.iter().filter(|found| found.repository == repository).collect()
    }
}

/// An image in use that a policy would expire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endangered {
    /// The image.
    pub digest: String,
    /// Its tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The rule that would expire it.
    pub rule_priority: u64,
    /// Who uses it.
    pub users: Vec<String>,
}

impl Endangered {
    /// `team/api:v1 (sha256:0123456789ab) by rule 2, used by ECS service arn:...`.
    pub fn describe(&self, repository: &str) -> String {
        let short: String = self.digest.chars().take("sha256:".len() + 12).collect();
        let name = match self.tags.first() {
            Some(tag) => format!("{repository}:{tag} ({short})"),
            None => format!("{repository}@{short}"),
        };
        format!("{name} by rule {}, used by {}", self.rule_priority, self.users.join(", "))
    }
}

/// The images in use (`uses`, of this repository) that `policy` would expire among `images` at `now_ms`, oldest
/// first. An archived image isn't running (it can't be pulled), and moving one to archive is as fatal to its
/// users as expiring it: both count.
pub fn endangered(policy: &LifecyclePolicy, images: &[Image], uses: &[&ImageUse], now_ms: i64) -> Vec<Endangered> {
    if uses.is_empty() {
        return Vec::new();
    }
    let users_of = |image: &Image| -> Vec<String> {
        let mut users: Vec<String> = uses
            .iter()
            .filter(|found| match &found.pin {
                Pin::Digest(digest) => *digest == image.digest,
                Pin::Tag(tag) => image.tags.contains(tag),
            })
            .map(|found| found.user.clone())
            .collect();
        users.sort();
        users.dedup();
        users
    };
    preview(policy, images, now_ms)
        .acted
        .iter()
        .filter(|acted| matches!(acted.action, RuleAction::Expire | RuleAction::Transition))
        .filter_map(|acted| {
            let image = &images[acted.image];
            let users = users_of(image);
            (!users.is_empty()).then(|| Endangered {
                digest: image.digest.clone(),
                tags: image.tags.clone(),
                rule_priority: acted.rule_priority,
                users,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::StorageClass;

    const DAY: i64 = 86_400_000;

    fn origin() -> Origin {
        Origin { account: "123456789012".into(), region: "us-east-1".into() }
    }

    fn digest(n: u32) -> String {
        format!("sha256:{n:064}")
    }

    #[test]
    fn references_name_a_repository_and_an_image_of_this_registry() {
        let uri = format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api@{}", digest(1));
        let parsed = ImageRef::parse(&uri).expect("a URI with a digest");
        assert_eq!((parsed.repository.as_str(), &parsed.pin), ("team/api", &Pin::Digest(digest(1))));
        assert!(parsed.is_in(&origin()));
        let tagged = ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1").expect("tag");
        assert_eq!(tagged.pin, Pin::Tag("v1".into()));
        assert_eq!(ImageRef::parse("team/api").map(|r| r.pin), Some(Pin::Tag("latest".into())));
        let elsewhere = ImageRef::parse("999999999999.dkr.ecr.us-east-1.amazonaws.com/team/api:v1").expect("parsed");
        assert!(!elsewhere.is_in(&origin()), "another account's registry");
        assert!(!ImageRef::parse("public.ecr.aws/nginx/nginx:1").expect("parsed").is_in(&origin()));
        assert!(!ImageRef::parse("registry.example.com:5000/app:1").expect("parsed").is_in(&origin()));
        for bad in ["team/api@sha256:xyz", "", "team//api:v1", "team/api@md5:00"] {
            assert!(ImageRef::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn an_image_in_use_the_policy_would_expire_is_named_with_its_rule_and_users() {
        let image = |n: u32, tag: &str, days: i64| Image {
            digest: digest(n),
            tags: vec![tag.to_string()],
            pushed_at_ms: 100 * DAY - days * DAY,
            last_pulled_ms: None,
            archived_at_ms: None,
            storage_class: StorageClass::Standard,
        };
        let images = [image(1, "v1", 30), image(2, "v2", 20), image(3, "v3", 10)];
        let policy = LifecyclePolicy::parse(
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}"#,
        )
        .expect("policy");
        let mut in_use = InUse::default();
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        in_use.add(&origin(), &format!("{host}/team/api:v1"), "ECS service svc");
        in_use.add(&origin(), &format!("{host}/team/api@{}", digest(3)), "Lambda function fn");
        in_use.add(&origin(), &format!("{host}/other:v2"), "ECS task t");
        in_use.add(&origin(), &format!("{host}/team/api:v1"), "ECS service svc");
        assert_eq!(in_use.len(), 3, "the same use once");
        let found = endangered(&policy, &images, &in_use.of("team/api"), 100 * DAY);
        assert_eq!(found.len(), 1, "v2 expires but nobody runs it; v3 is kept: {found:?}");
        assert_eq!(
            found[0].describe("team/api"),
            "team/api:v1 (sha256:000000000000) by rule 1, used by ECS service svc"
        );
    }
}
