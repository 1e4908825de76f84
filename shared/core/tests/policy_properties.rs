//! Invariants of repository-policy merging, over generated documents in every legal shape: statements with
//! or without a `Sid`, principals as `"*"`, a string, a list, a list mixing `"*"` with an account, a service,
//! `NotPrincipal`, `Condition` blocks that narrow who can use a statement and blocks that only look as if they
//! did, `Deny`, unknown keys, and statements under the required `Sid` that ecr-warden wrote (now outdated) or
//! that a team wrote.

use proptest::prelude::*;
use serde_json::{json, Value};
use warden_core::policy::{
    fingerprint, grants_public_access, merge, same_statement, sid, AllowedAccess, MergeRules, PolicyDocument,
};

const ARN: &str = "arn:aws:iam::123456789012:root";
const OTHER: &str = "arn:aws:iam::210987654321:root";

fn principal() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        Just(("Principal".to_string(), json!("*"))),
        Just(("Principal".to_string(), json!({"AWS": "*"}))),
        Just(("Principal".to_string(), json!({"AWS": ARN}))),
        Just(("Principal".to_string(), json!({"AWS": [ARN, "*"]}))),
        Just(("Principal".to_string(), json!({"AWS": [ARN, OTHER]}))),
        Just(("Principal".to_string(), json!({"Service": "codebuild.amazonaws.com"}))),
        Just(("NotPrincipal".to_string(), json!({"AWS": ARN}))),
    ]
}

/// Conditions, each with whether it narrows who can use the statement (by the documented definition, written
/// out here independently of the code under test).
fn condition() -> impl Strategy<Value = (Value, bool)> {
    prop::sample::select(vec![
        (json!({}), false),
        (json!({"StringEquals": {}}), false),
        (json!({"Bool": {"aws:SecureTransport": "true"}}), false),
        (json!({"StringLike": {"aws:PrincipalAccount": "*"}}), false),
        (json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}), false),
        (json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-1"}}), false),
        (json!({"Null": {"aws:PrincipalOrgID": "false"}}), false),
        (json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}), false),
        (json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), false),
        (json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), true),
        (json!({"StringLike": {"aws:PrincipalAccount": ["123456789012", "210987654321"]}}), true),
        (json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}), true),
        (json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), true),
        (json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}}), true),
    ])
}

/// What the generator made: a statement, and whether it narrows by construction.
#[derive(Debug, Clone)]
struct Made {
    statement: Value,
    narrowing: bool,
}

/// Sids drawn from a small set so that documents repeat them and collide with the required one.
fn statement() -> impl Strategy<Value = Made> {
    (
        prop::option::of(prop::sample::select(vec!["Team", "Ci", "Required", "Public", "X"])),
        prop::bool::ANY,
        principal(),
        prop::option::of(condition()),
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
            let narrowing = condition.as_ref().is_some_and(|(_, narrows)| *narrows);
            if let Some((condition, _)) = condition {
                statement["Condition"] = condition;
            }
            if let Some(extra) = extra {
                statement["XUnknown"] = extra;
            }
            Made { statement, narrowing }
        })
}

fn required() -> Vec<Value> {
    vec![json!({"Sid": "Required", "Effect": "Allow", "Principal": {"AWS": ARN}, "Action": "ecr:BatchGetImage"})]
}

/// The required statement as an earlier baseline had it: ecr-warden wrote it, and recorded it.
fn outdated() -> Value {
    json!({"Sid": "Required", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "ecr:BatchGetImage"})
}

/// A document of generated statements, sometimes with ecr-warden's outdated statement among them, written as
/// one object when it holds one statement and the coin says so.
fn documents() -> impl Strategy<Value = String> {
    (prop::collection::vec(statement(), 0..8), prop::option::of(0..8usize), prop::bool::ANY, prop::bool::ANY).prop_map(
        |(made, outdated_at, single_as_object, with_id)| {
            let mut statements: Vec<Value> = made.into_iter().map(|m| m.statement).collect();
            if let Some(at) = outdated_at {
                statements.insert(at.min(statements.len()), outdated());
            }
            let statement = match statements.as_slice() {
                [only] if single_as_object => only.clone(),
                _ => Value::Array(statements),
            };
            let mut document = json!({"Version": "2012-10-17", "Statement": statement});
            if with_id {
                document["Id"] = json!("doc-id");
            }
            document.to_string()
        },
    )
}

fn owned() -> Vec<String> {
    vec![fingerprint(&outdated())]
}

fn rules<'a>(remove_public: bool, owned: &'a [String], access: Option<&'a AllowedAccess<'a>>) -> MergeRules<'a> {
    MergeRules { remove_public, owned, access, exclusive: false }
}

fn under_required_sid(statement: &Value) -> bool {
    sid(statement) == Some("Required")
}

/// Whether ecr-warden may replace a statement under the required Sid: it is the required one or one it wrote.
fn replaceable(statement: &Value) -> bool {
    same_statement(statement, &required()[0]) || owned().contains(&fingerprint(statement))
}

/// Public access by construction: an `Allow` whose principal holds `"*"` or is a `NotPrincipal`, and whose
/// condition doesn't narrow.
fn public_by_construction(made: &Made) -> bool {
    let statement = &made.statement;
    let everyone = [json!("*"), json!({"AWS": "*"}), json!({"AWS": [ARN, "*"]})].contains(&statement["Principal"]);
    statement["Effect"] == "Allow" && (everyone || statement.get("NotPrincipal").is_some()) && !made.narrowing
}

/// The statement as merging should leave it when public access is removed: narrowed where it names an account
/// beside `"*"`, gone otherwise.
fn public_left_as(statement: &Value) -> Option<Value> {
    (statement["Principal"] == json!({"AWS": [ARN, "*"]})).then(|| {
        let mut narrowed = statement.clone();
        narrowed["Principal"] = json!({"AWS": [ARN]});
        narrowed
    })
}

proptest! {
    /// Public access is recognised by the documented definition, conditions included.
    #[test]
    fn public_access_follows_the_definition(made in statement()) {
        prop_assert_eq!(grants_public_access(&made.statement), public_by_construction(&made), "{}", made.statement);
    }

    /// Every statement outside the required Sid is kept as the same JSON value and in the same order, except
    /// public ones when public access is denied: those with a named principal beside `"*"` are kept with
    /// `"*"` taken out, the others removed; each is printed in full.
    #[test]
    fn merging_keeps_every_statement_it_does_not_own(text in documents(), remove_public in prop::bool::ANY) {
        let original = PolicyDocument::parse(&text).expect("generated documents are valid");
        let mut merged = original.clone();
        let outcome = merge(&mut merged, &required(), &rules(remove_public, &owned(), None));

        let others = original.statements.iter().filter(|s| !under_required_sid(s));
        let expected_kept: Vec<Value> = others
            .filter_map(|s| match remove_public && grants_public_access(s) {
                true => public_left_as(s),
                false => Some(s.clone()),
            })
            .collect();
        let kept: Vec<Value> = merged.statements.iter().filter(|s| !under_required_sid(s)).cloned().collect();
        prop_assert_eq!(kept, expected_kept);
        prop_assert_eq!(&merged.other, &original.other, "Version, Id and other keys are untouched");

        let public: Vec<&Value> = original.statements.iter().filter(|s| grants_public_access(s)).collect();
        prop_assert_eq!(outcome.public.iter().collect::<Vec<_>>(), public.clone());
        let printed: Vec<&Value> = outcome.removed.iter().chain(outcome.narrowed.iter().map(|n| &n.before)).collect();
        prop_assert_eq!(printed.len(), if remove_public { public.len() } else { 0 });
        if remove_public {
            prop_assert!(merged.statements.iter().all(|s| !grants_public_access(s)));
        }
    }

    /// A statement under the required Sid that ecr-warden didn't write is never overwritten: it stays, as it
    /// was, and is reported in full as a conflict. Without conflicts, the required statement is there exactly
    /// once, and whatever it replaced was ecr-warden's own and is printed.
    #[test]
    fn collisions_never_overwrite(text in documents(), remove_public in prop::bool::ANY) {
        let original = PolicyDocument::parse(&text).expect("valid");
        let mut merged = original.clone();
        let outcome = merge(&mut merged, &required(), &rules(remove_public, &owned(), None));
        // Public access goes first: a public statement under the Sid is removed or narrowed before anything else.
        let theirs: Vec<Value> = original
            .statements
            .iter()
            .filter(|s| under_required_sid(s))
            .filter_map(|s| match remove_public && grants_public_access(s) {
                true => public_left_as(s),
                false => Some(s.clone()),
            })
            .filter(|s| !replaceable(s))
            .collect();
        if theirs.is_empty() {
            prop_assert!(outcome.conflicts.is_empty());
            let set: Vec<Value> = merged.statements.iter().filter(|s| under_required_sid(s)).cloned().collect();
            prop_assert_eq!(set.len(), 1);
            prop_assert!(same_statement(&set[0], &required()[0]));
            prop_assert!(outcome.replaced.iter().all(replaceable), "only ecr-warden's own statements are replaced");
        } else {
            prop_assert_eq!(&outcome.conflicts, &theirs);
            for statement in &theirs {
                prop_assert!(merged.statements.contains(statement), "kept: {}", statement);
            }
            prop_assert!(outcome.replaced.is_empty() && outcome.statements_set.is_empty());
        }
    }

    /// A merged document merged again changes nothing, and survives its own text form.
    #[test]
    fn merging_is_idempotent_and_round_trips(text in documents(), remove_public in prop::bool::ANY) {
        let mut merged = PolicyDocument::parse(&text).expect("valid");
        merge(&mut merged, &required(), &rules(remove_public, &owned(), None));
        let reread = PolicyDocument::parse(&merged.to_text()).expect("a merged document is valid");
        prop_assert_eq!(&reread, &merged);
        let mut again = reread.clone();
        let outcome = merge(&mut again, &required(), &rules(remove_public, &owned(), None));
        prop_assert_eq!(&again, &reread);
        prop_assert!(!outcome.changed() && outcome.replaced.is_empty());
    }

    /// With the access settings on (the own account allowed, the other not): after merging, no statement lets in
    /// anyone the settings don't allow (but the required ones, the baseline's own); a statement letting in only
    /// allowed principals that isn't public is kept as it was; a second merge changes nothing; everything taken
    /// out is printed in full.
    #[test]
    fn access_settings_leave_no_outsider_and_keep_the_rest(text in documents()) {
        let (accounts, owned): (Vec<String>, Vec<String>) = (Vec::new(), owned());
        let access = AllowedAccess { own_account: "123456789012", accounts: &accounts, organization: Some("o-1"), services: &[] };
        let original = PolicyDocument::parse(&text).expect("valid");
        let mut merged = original.clone();
        let outcome = merge(&mut merged, &required(), &rules(true, &owned, Some(&access)));
        let required = required();
        let theirs = |s: &&Value| !required.iter().any(|want| same_statement(s, want));
        for statement in merged.statements.iter().filter(theirs) {
            prop_assert!(access.outsiders(statement).is_empty(), "left: {}", statement);
        }
        for statement in original.statements.iter().filter(theirs) {
            if access.outsiders(statement).is_empty() && !grants_public_access(statement) {
                prop_assert!(merged.statements.contains(statement), "kept: {}", statement);
            }
        }
        let taken = original.statements.iter().filter(theirs).filter(|s| !merged.statements.contains(s)).count();
        let printed = outcome.removed.len() + outcome.narrowed.len() + outcome.replaced.len();
        prop_assert!(printed >= taken, "{} taken out, {} printed", taken, printed);
        let mut again = merged.clone();
        let second = merge(&mut again, &required, &rules(true, &owned, Some(&access)));
        prop_assert_eq!(&again, &merged);
        prop_assert!(!second.changed());
    }
}
