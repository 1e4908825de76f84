//! Invariants of repository-policy merging, over generated documents in every legal shape: statements with
//! or without a `Sid`, principals as `"*"`, a string, a list or a service, `NotPrincipal`, `Condition` blocks,
//! `Deny`, unknown keys.

use proptest::prelude::*;
use serde_json::{json, Value};
use warden_core::policy::{grants_public_access, merge, sid, PolicyDocument};

const ARN: &str = "arn:aws:iam::123456789012:root";

fn principal() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        Just(("Principal".to_string(), json!("*"))),
        Just(("Principal".to_string(), json!({"AWS": "*"}))),
        Just(("Principal".to_string(), json!({"AWS": ARN}))),
        Just(("Principal".to_string(), json!({"AWS": [ARN, "*"]}))),
        Just(("Principal".to_string(), json!({"AWS": [ARN, "arn:aws:iam::210987654321:root"]}))),
        Just(("Principal".to_string(), json!({"Service": "codebuild.amazonaws.com"}))),
        Just(("NotPrincipal".to_string(), json!({"AWS": ARN}))),
    ]
}

/// Sids drawn from a small set so that documents repeat them and collide with the required ones.
fn statement() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::sample::select(vec!["Team", "Ci", "Required", "Public", "X"])),
        prop::bool::ANY,
        principal(),
        prop::option::of(prop_oneof![Just(json!({})), Just(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))]),
        prop::sample::select(vec![
            json!("ecr:BatchGetImage"),
            json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
        ]),
        prop::option::of(prop::sample::select(vec![json!(1), json!("note"), json!(null)])),
    )
        .prop_map(|(sid, allow, (principal_key, principal), condition, action, extra)| {
            let mut statement = json!({"Effect": if allow { "Allow" } else { "Deny" }, "Action": action});
            statement[principal_key] = principal;
            if let Some(sid) = sid {
                statement["Sid"] = json!(sid);
            }
            if let Some(condition) = condition {
                statement["Condition"] = condition;
            }
            if let Some(extra) = extra {
                statement["XUnknown"] = extra;
            }
            statement
        })
}

fn documents() -> impl Strategy<Value = String> {
    (prop::collection::vec(statement(), 0..8), prop::bool::ANY, prop::option::of(Just("doc-id"))).prop_map(
        |(statements, single_as_object, id)| {
            let statement = match statements.as_slice() {
                [only] if single_as_object => only.clone(),
                _ => Value::Array(statements),
            };
            let mut document = json!({"Version": "2012-10-17", "Statement": statement});
            if let Some(id) = id {
                document["Id"] = json!(id);
            }
            document.to_string()
        },
    )
}

fn required() -> Vec<Value> {
    vec![json!({"Sid": "Required", "Effect": "Allow", "Principal": {"AWS": ARN}, "Action": "ecr:BatchGetImage"})]
}

fn owned(statement: &Value) -> bool {
    sid(statement) == Some("Required")
}

/// Public access as the generator builds it, written independently of the code under test: an `Allow` with
/// no (non-empty) `Condition`, to everyone (`"*"`, an `AWS` principal of or containing `"*"`) or to everyone
/// but someone (`NotPrincipal`).
fn public_by_construction(statement: &Value) -> bool {
    let allow = statement["Effect"] == "Allow";
    let unconditioned = statement.get("Condition").is_none_or(|c| c == &json!({}));
    let everyone = [json!("*"), json!({"AWS": "*"}), json!({"AWS": [ARN, "*"]})].contains(&statement["Principal"]);
    allow && unconditioned && (everyone || statement.get("NotPrincipal").is_some())
}

proptest! {
    /// Public access is recognised in every shape the generator writes it.
    #[test]
    fn public_access_is_recognised_in_every_shape(statement in statement()) {
        prop_assert_eq!(grants_public_access(&statement), public_by_construction(&statement), "{}", statement);
    }

    /// Every statement ecr-warden doesn't own is kept as the same JSON value and in the same order, unless
    /// it is public and public access is denied; nothing else is removed.
    #[test]
    fn merging_keeps_every_statement_it_does_not_own(text in documents(), remove_public in prop::bool::ANY) {
        let original = PolicyDocument::parse(&text).expect("generated documents are valid");
        let mut merged = original.clone();
        let outcome = merge(&mut merged, &required(), remove_public);

        let expected_kept: Vec<&Value> = original
            .statements
            .iter()
            .filter(|s| !owned(s))
            .filter(|s| !remove_public || !grants_public_access(s))
            .collect();
        let kept: Vec<&Value> = merged.statements.iter().filter(|s| !owned(s)).collect();
        prop_assert_eq!(kept, expected_kept);
        prop_assert_eq!(&merged.other, &original.other, "Version, Id and other keys are untouched");

        let removed: Vec<&Value> = original.statements.iter().filter(|s| !owned(s) && grants_public_access(s)).collect();
        prop_assert_eq!(outcome.public.iter().collect::<Vec<_>>(), removed.clone());
        if remove_public {
            prop_assert_eq!(outcome.removed.iter().collect::<Vec<_>>(), removed);
            prop_assert!(merged.statements.iter().all(|s| owned(s) || !grants_public_access(s)));
        } else {
            prop_assert!(outcome.removed.is_empty());
        }
    }

    /// The required statement is there exactly once, as required.
    #[test]
    fn merging_sets_each_required_statement_exactly_once(text in documents(), remove_public in prop::bool::ANY) {
        let mut merged = PolicyDocument::parse(&text).expect("valid");
        merge(&mut merged, &required(), remove_public);
        let set: Vec<Value> = merged.statements.iter().filter(|s| owned(s)).cloned().collect();
        prop_assert_eq!(set, required());
    }

    /// A merged document merged again changes nothing, and survives its own text form.
    #[test]
    fn merging_is_idempotent_and_round_trips(text in documents(), remove_public in prop::bool::ANY) {
        let mut merged = PolicyDocument::parse(&text).expect("valid");
        merge(&mut merged, &required(), remove_public);
        let reread = PolicyDocument::parse(&merged.to_text()).expect("a merged document is valid");
        prop_assert_eq!(&reread, &merged);
        let mut again = reread.clone();
        let outcome = merge(&mut again, &required(), remove_public);
        prop_assert_eq!(&again, &reread);
        prop_assert!(outcome.statements_set.is_empty() && outcome.removed.is_empty());
    }
}
