//! Repository policy documents: reading statements however they are written, recognising public
//! access (`public`), comparing statements by meaning (`canonical`), checking the shape of required
//! statements (`shape`), finding a `Deny` that would lock ecr-warden out (`lockout`), and merging required statements by `Sid` without losing or overwriting anyone
//! else's statements.

pub mod access;
mod canonical;
pub mod lockout;
mod public;
pub mod shape;

use serde::Serialize;
use serde_json::{Map, Value};

pub use access::{Admitted, AllowedAccess};
pub use canonical::{fingerprint, same_statement};
pub use public::{grants_public_access, without_public_principals};

/// The policy language version used for documents ecr-warden creates from nothing.
pub(crate) const DEFAULT_VERSION: &str = "2012-10-17";

/// A parsed policy document: its statements, in order, and every other top-level key as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// Top-level keys other than `Statement` (e.g. `Version`, `Id`), kept untouched.
    pub other: Map<String, Value>,
    /// The statements, whether the document wrote one object or an array.
    pub statements: Vec<Value>,
}

impl PolicyDocument {
    /// An empty document with the default version.
    pub fn empty() -> Self {
        let mut other = Map::new();
        other.insert("Version".to_string(), Value::String(DEFAULT_VERSION.to_string()));
        Self { other, statements: Vec::new() }
    }

    /// Parses a policy text; a single statement object is accepted as well as an array.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut other) = value else {
            return Err("a policy document must be a JSON object".to_string());
        };
        let statements = match other.remove("Statement") {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => return Err("`Statement` must be an object or an array of objects".to_string()),
        };
        if let Some(bad) = statements.iter().position(|s| !s.is_object()) {
            return Err(format!("statement {} is not an object", bad + 1));
        }
        Ok(Self { other, statements })
    }

    /// The document as compact JSON text, with `Statement` always an array.
    pub fn to_text(&self) -> String {
        let mut map = self.other.clone();
        map.insert("Statement".to_string(), Value::Array(self.statements.clone()));
        Value::Object(map).to_string()
    }
}

/// The `Sid` of a statement, if it has a string one.
pub fn sid(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// What is wrong with the baseline's required statement `sid`, one line each: its shape, public access, and
/// denying ecr-warden's roles (`roles`) one of the `needed` actions, which would lock it out of `what` (`the
/// repository`, `the registry`).
pub fn required_statement_problems(
    sid: &str,
    statement: &Value,
    roles: &[String],
    needed: &[&'static str],
    what: &str,
) -> Vec<String> {
    let mut problems: Vec<String> = shape::problems(statement).into_iter().map(|p| format!("`{sid}`: {p}")).collect();
    if grants_public_access(statement) {
        problems.push(format!("`{sid}` grants public access (no condition narrows who can use it)"));
    }
    let denied = lockout::denied_to_ecr_warden(statement, roles, needed);
    if let Some(first) = denied.first() {
        let more = match denied.len() {
            1 => String::new(),
            n => format!(" and {} more ({})", n - 1, denied[1..].join(", ")),
        };
        problems.push(format!(
            "`{sid}` denies ecr-warden's own roles {first}{more}, locking it out of {what}: except them \
             (`except_ecr_warden = true` adds an `ArnNotLike` condition on `aws:PrincipalArn` naming \
             `ecr_warden_roles`) or leave those actions out"
        ));
    }
    problems
}

/// ECR's limit on a repository policy's text (API reference, `SetRepositoryPolicy`, `policyText`: at most 10,240
/// characters).
pub const MAX_POLICY_CHARACTERS: usize = 10_240;

/// The tag in which ecr-warden records the fingerprints of the statements it wrote into a repository's policy,
/// so that it replaces a statement under a required `Sid` only when it wrote that statement itself.
pub const OWNED_STATEMENTS_TAG: &str = "ecr-warden:policy-statements";

/// The most fingerprints the record holds: 10 hex digits and a space each within a tag value's 256 characters
/// (ECR API reference, `Tag`).
pub const MAX_OWNED_STATEMENTS: usize = 23;

/// The fingerprints recorded in a repository's tags.
pub fn owned_statements(tags: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    tags.get(OWNED_STATEMENTS_TAG)
        .map(|value| value.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A public statement kept with its public principal taken out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narrowed {
    /// The statement as it was, in full.
    pub before: Value,
    /// The statement as it is now.
    pub after: Value,
}

/// The outcome of merging required statements into a document and removing public statements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    /// Sids of required statements that were missing or different and are now set.
    pub statements_set: Vec<String>,
    /// Statements ecr-warden wrote earlier under a required Sid, outdated or duplicated, now replaced: in full.
    pub replaced: Vec<Value>,
    /// Public statements removed, in full.
    pub removed: Vec<Value>,
    /// Public statements that also named others, kept with `"*"` taken out.
    pub narrowed: Vec<Narrowed>,
    /// Public statements found (removed, narrowed or not, depending on `remove_public`).
    pub public: Vec<Value>,
    /// Statements under a required Sid that differ from the required one and that ecr-warden didn't write:
    /// never replaced, in full.
    pub conflicts: Vec<Value>,
    /// Statements letting in someone the baseline's access settings don't allow (removed or narrowed, in
    /// `removed` and `narrowed`), with whom.
    pub outsiders: Vec<Outsiders>,
    /// `exclusive`: the Sids of the statements that weren't the baseline's (removed, in `removed`).
    pub others: Vec<String>,
}

/// A statement letting in someone the baseline doesn't allow.
#[derive(Debug, Clone, PartialEq)]
pub struct Outsiders {
    /// The statement's Sid, if it has one.
    pub sid: Option<String>,
    /// Whom it lets in (`account 999999999999`, `everyone`, ...).
    pub admitted: Vec<String>,
}

impl Merge {
    /// Whether the document changed.
    pub fn changed(&self) -> bool {
        !(self.statements_set.is_empty() && self.removed.is_empty() && self.narrowed.is_empty())
    }
}

/// How [`merge`] treats the statements already there.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeRules<'a> {
    /// Take public access out.
    pub remove_public: bool,
    /// The fingerprints of the statements ecr-warden wrote (see [`OWNED_STATEMENTS_TAG`]).
    pub owned: &'a [String],
    /// Take out access the baseline doesn't allow.
    pub access: Option<&'a AllowedAccess<'a>>,
    /// Keep only the required statements: every other is taken out.
    pub exclusive: bool,
}

/// Merges `required` statements (each with a `Sid`) into `document` and, as `rules` say, takes public access out
/// of it, access the baseline doesn't allow, or (exclusive) every statement but the required ones. Every statement
/// ecr-warden doesn't own and isn't told to take out is kept as it was, in order.
///
/// - A public statement (see [`grants_public_access`]) is removed, or, where its principal also names
///   others, kept with `"*"` taken out.
/// - With `access`, a statement letting in anyone else than it allows (see [`access`]) is removed, or, where it
///   names allowed principals too, kept with the others taken out. A required statement is the baseline's own.
/// - `exclusive`: every statement that isn't one of the required ones is removed (whoever wrote it: the baseline
///   says so), so none is left to conflict with them.
/// - A required statement missing from the document is appended. One present under its `Sid` with the same
///   meaning is left alone. One that differs is replaced only when ecr-warden wrote it (its fingerprint is in
///   `owned`); otherwise it is a conflict and stays as it is.
pub fn merge(document: &mut PolicyDocument, required: &[Value], rules: &MergeRules<'_>) -> Merge {
    let MergeRules { remove_public, owned, access, exclusive } = *rules;
    let mut outcome = Merge::default();
    let mut kept = Vec::with_capacity(document.statements.len() + required.len());
    for statement in document.statements.drain(..) {
        let public = grants_public_access(&statement);
        let theirs = !required.iter().any(|want| same_statement(&statement, want));
        if public {
            outcome.public.push(statement.clone());
        }
        if exclusive && theirs {
            outcome.others.push(sid(&statement).unwrap_or("(no Sid)").to_string());
            outcome.removed.push(statement);
            continue;
        }
        let access = access.filter(|_| theirs);
        if !(public && remove_public) && access.is_none() {
            kept.push(statement);
            continue;
        }
        // What is left of it: public access taken out (when asked), then access the baseline doesn't allow.
        let left = match public && remove_public {
            true => without_public_principals(&statement),
            false => Some(statement.clone()),
        };
        let left = match access {
            Some(access) => left.and_then(|left| allowed_part(left, access, &mut outcome)),
            None => left,
        };
        match left {
            Some(after) if after == statement => kept.push(statement),
            Some(after) => {
                kept.push(after.clone());
                outcome.narrowed.push(Narrowed { before: statement, after });
            }
            None => outcome.removed.push(statement),
        }
    }
    for want in required {
        let Some(want_sid) = sid(want) else { continue };
        let same_sid: Vec<usize> =
            kept.iter().enumerate().filter(|(_, s)| sid(s) == Some(want_sid)).map(|(i, _)| i).collect();
        if let [only] = same_sid.as_slice() {
            if same_statement(&kept[*only], want) {
                continue;
            }
        }
        let ours = |s: &Value| same_statement(s, want) || owned.contains(&fingerprint(s));
        let conflicts: Vec<Value> = same_sid.iter().map(|i| &kept[*i]).filter(|s| !ours(s)).cloned().collect();
        if !conflicts.is_empty() {
            outcome.conflicts.extend(conflicts);
            continue;
        }
        match same_sid.split_first() {
            None => kept.push(want.clone()),
            Some((first, rest)) => {
                let old = std::mem::replace(&mut kept[*first], want.clone());
                outcome.replaced.push(old);
                for index in rest.iter().rev() {
                    outcome.replaced.push(kept.remove(*index));
                }
            }
        }
        outcome.statements_set.push(want_sid.to_string());
    }
    document.statements = kept;
    outcome
}

/// What a merge found, one phrase each: statements missing or outdated, public access (when it is taken out),
/// statements not the baseline's (`exclusive`), and statements letting in someone the baseline doesn't allow.
pub fn findings(merge: &Merge, remove_public: bool) -> Vec<String> {
    let mut findings = Vec::new();
    if !merge.statements_set.is_empty() {
        findings.push(format!("missing or outdated statements {}", merge.statements_set.join(", ")));
    }
    if remove_public && !merge.public.is_empty() {
        let sids: Vec<&str> = merge.public.iter().map(|s| sid(s).unwrap_or("(no Sid)")).collect();
        findings.push(format!("public access granted by {}", sids.join(", ")));
    }
    if !merge.others.is_empty() {
        findings.push(format!("exclusive: {} not the baseline's", merge.others.join(", ")));
    }
    for outsiders in &merge.outsiders {
        findings.push(format!(
            "{} lets in {}, which the baseline doesn't allow",
            outsiders.sid.as_deref().unwrap_or("(no Sid)"),
            outsiders.admitted.join(", ")
        ));
    }
    findings
}

/// `statement` without whom `access` doesn't allow (`None`: nobody allowed is left), the outsiders recorded.
fn allowed_part(statement: Value, access: &AllowedAccess<'_>, outcome: &mut Merge) -> Option<Value> {
    let outside = access.outsiders(&statement);
    if outside.is_empty() {
        return Some(statement);
    }
    outcome.outsiders.push(Outsiders {
        sid: sid(&statement).map(str::to_string),
        admitted: outside.iter().map(Admitted::describe).collect(),
    });
    access::without_outsiders(&statement, access)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pull_statement() -> Value {
        json!({"Sid": "CrossAccountPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
               "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
    }

    #[test]
    fn single_statement_objects_are_read_as_a_list() {
        let doc = PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Deny"}}"#)
            .expect("valid");
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.other.get("Version"), Some(&json!("2012-10-17")));
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(PolicyDocument::parse("{").is_err());
        assert!(PolicyDocument::parse("[]").is_err());
        assert!(PolicyDocument::parse(r#"{"Statement": 3}"#).is_err());
        assert!(PolicyDocument::parse(r#"{"Statement": [1]}"#).is_err());
    }

    #[test]
    fn merge_appends_missing_statements_and_keeps_the_others() {
        let user =
            json!({"Sid":"UserOwn","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999:root"},"Action":"ecr:*"});
        let mut doc =
            PolicyDocument::parse(&json!({"Version":"2008-10-17","Statement":[user]}).to_string()).expect("valid");
        let outcome = merge(
            &mut doc,
            &[pull_statement()],
            &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() },
        );
        assert_eq!(outcome.statements_set, vec!["CrossAccountPull"]);
        assert_eq!(doc.statements, vec![user, pull_statement()]);
        assert_eq!(doc.other.get("Version"), Some(&json!("2008-10-17")), "version kept");
    }

    #[test]
    fn merge_is_idempotent() {
        let mut doc = PolicyDocument::empty();
        merge(&mut doc, &[pull_statement()], &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() });
        let again = merge(
            &mut doc,
            &[pull_statement()],
            &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() },
        );
        assert_eq!(again, Merge::default());
        assert_eq!(doc.statements.len(), 1);
    }

    #[test]
    fn a_statement_ecr_stored_in_its_own_form_is_the_same() {
        let mut stored = pull_statement();
        stored["Principal"] = json!({"AWS": ["111122223333"]});
        stored["Action"] = json!(["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]);
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![stored.clone()];
        assert_eq!(
            merge(
                &mut doc,
                &[pull_statement()],
                &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() }
            ),
            Merge::default()
        );
        assert_eq!(doc.statements, vec![stored], "left as ECR stored it");
    }

    #[test]
    fn a_statement_ecr_warden_wrote_is_replaced_once_and_printed() {
        let mut stale = pull_statement();
        stale["Action"] = json!("ecr:*");
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![stale.clone(), json!({"Sid":"Other","Effect":"Deny"}), stale.clone()];
        let outcome = merge(
            &mut doc,
            &[pull_statement()],
            &MergeRules { remove_public: true, owned: &[fingerprint(&stale)], ..MergeRules::default() },
        );
        assert_eq!(outcome.statements_set, vec!["CrossAccountPull"]);
        assert_eq!(outcome.replaced, vec![stale.clone(), stale]);
        assert!(outcome.conflicts.is_empty());
        assert_eq!(doc.statements, vec![pull_statement(), json!({"Sid":"Other","Effect":"Deny"})]);
    }

    /// A user's statement under a required Sid is never overwritten: a Deny stays a Deny, a broader Deny stays
    /// broad, two user statements sharing the Sid both stay.
    #[test]
    fn a_statement_ecr_warden_did_not_write_is_a_conflict_and_stays() {
        let deny = json!({"Sid":"CrossAccountPull","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
                          "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]});
        let broad = json!({"Sid":"CrossAccountPull","Effect":"Deny","Principal":"*","Action":"ecr:*"});
        for statements in [vec![deny.clone()], vec![broad.clone()], vec![deny.clone(), broad.clone()]] {
            let mut doc = PolicyDocument::empty();
            doc.statements = statements.clone();
            let outcome = merge(
                &mut doc,
                &[pull_statement()],
                &MergeRules { remove_public: true, owned: &[fingerprint(&pull_statement())], ..MergeRules::default() },
            );
            assert_eq!(outcome.conflicts, statements, "printed in full");
            assert!(outcome.statements_set.is_empty() && outcome.replaced.is_empty());
            assert_eq!(doc.statements, statements, "nothing replaced");
        }
    }

    #[test]
    fn public_statements_are_removed_only_when_asked_and_always_reported() {
        let public = json!({"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"});
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![public.clone()];
        let kept =
            merge(&mut doc.clone(), &[], &MergeRules { remove_public: false, owned: &[], ..MergeRules::default() });
        assert_eq!((kept.public.len(), kept.removed.len()), (1, 0));
        let removed = merge(&mut doc, &[], &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() });
        assert_eq!(removed.removed, vec![public]);
        assert!(doc.statements.is_empty());
    }

    #[test]
    fn a_public_principal_beside_a_named_one_is_narrowed_not_removed() {
        let mixed = json!({"Sid":"Mixed","Effect":"Allow","Principal":{"AWS":["*","arn:aws:iam::444455556666:root"]},
                           "Action":"ecr:BatchGetImage"});
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![mixed.clone()];
        let outcome = merge(&mut doc, &[], &MergeRules { remove_public: true, owned: &[], ..MergeRules::default() });
        assert!(outcome.removed.is_empty());
        assert_eq!(outcome.narrowed.len(), 1);
        assert_eq!(outcome.narrowed[0].before, mixed);
        assert_eq!(doc.statements[0]["Principal"], json!({"AWS": ["arn:aws:iam::444455556666:root"]}));
        assert!(outcome.changed());
    }
}
