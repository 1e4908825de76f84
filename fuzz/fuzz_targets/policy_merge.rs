//! Any text as a repository policy: parsing never panics, and merging keeps every statement it doesn't own
//! (public ones aside), sets the required one exactly once, and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use warden_core::policy::{grants_public_access, merge, sid, PolicyDocument};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(original) = PolicyDocument::parse(text) else { return };
    let required = [json!({"Sid": "EcrWarden", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                            "Action": "ecr:BatchGetImage"})];
    let owned = |s: &serde_json::Value| sid(s) == Some("EcrWarden");
    let mut merged = original.clone();
    merge(&mut merged, &required, true);
    let expected: Vec<_> = original.statements.iter().filter(|s| !owned(s) && !grants_public_access(s)).collect();
    let kept: Vec<_> = merged.statements.iter().filter(|s| !owned(s)).collect();
    assert_eq!(kept, expected);
    assert_eq!(merged.statements.iter().filter(|s| owned(s)).count(), 1);
    let mut again = PolicyDocument::parse(&merged.to_text()).expect("a merged document parses");
    let outcome = merge(&mut again, &required, true);
    assert!(outcome.statements_set.is_empty() && outcome.removed.is_empty());
});
