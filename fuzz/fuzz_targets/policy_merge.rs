//! Any text as a repository policy: parsing never panics; merging keeps every statement it doesn't own (public
//! ones aside), never overwrites a statement under the required Sid that it didn't write, sets the required one
//! exactly once when nothing conflicts, and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use warden_core::policy::{fingerprint, grants_public_access, merge, same_statement, sid, PolicyDocument};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(original) = PolicyDocument::parse(text) else { return };
    let required = [json!({"Sid": "EcrWarden", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                            "Action": "ecr:BatchGetImage"})];
    let owned = [fingerprint(&json!({"Sid": "EcrWarden", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}))];
    let under_sid = |s: &serde_json::Value| sid(s) == Some("EcrWarden");
    let mut merged = original.clone();
    let outcome = merge(&mut merged, &required, true, &owned);
    for statement in original.statements.iter().filter(|s| !grants_public_access(s)) {
        let ours = under_sid(statement)
            && (same_statement(statement, &required[0]) || owned.contains(&fingerprint(statement)));
        if !ours {
            assert!(merged.statements.contains(statement), "kept: {statement}");
        }
    }
    assert!(merged.statements.iter().all(|s| !grants_public_access(s)));
    if outcome.conflicts.is_empty() {
        assert_eq!(merged.statements.iter().filter(|s| under_sid(s)).count(), 1);
    }
    let mut again = PolicyDocument::parse(&merged.to_text()).expect("a merged document parses");
    let outcome = merge(&mut again, &required, true, &owned);
    assert!(!outcome.changed());
});
