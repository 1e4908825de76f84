//! Any text as a lifecycle policy: validation never panics, a policy that passes it has its rules in strictly
//! ascending priority (ECR's rule), and it previews against images without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::lifecycle::{preview, validate, Image, LifecyclePolicy, StorageClass};

const DAY: i64 = 86_400_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if !validate(text).is_empty() {
        return;
    }
    let policy = LifecyclePolicy::parse(text).expect("a policy without problems parses");
    assert!(policy.rules.windows(2).all(|w| w[0].priority < w[1].priority), "priorities unique and sorted");
    let images: Vec<Image> = (0..20)
        .map(|i| Image {
            digest: format!("sha256:{i:064}"),
            tags: if i % 3 == 0 { vec![] } else { vec![format!("v{i}"), format!("prod-{i}")] },
            pushed_at_ms: 1_000 * DAY - i * DAY,
            last_pulled_ms: (i % 2 == 0).then_some(1_000 * DAY - i),
            archived_at_ms: None,
            storage_class: StorageClass::Standard,
        })
        .collect();
    let _ = preview(&policy, &images, 1_000 * DAY);
});
