//! Any bytes as an event: routing never panics, and whatever it routes names a repository ECR could hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::observed::repository_name_problem;
use warden_runtime::event::{route, LoopGuard, Route};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let guard = LoopGuard::new(Some("arn:aws:iam::123456789012:role/ecr-warden".to_string()));
    let repository = match route(&event, &guard) {
        Ok(Route::Govern { repository, .. }) => repository,
        Ok(Route::ImagePushed(push)) => push.repository,
        Ok(Route::ScanCompleted(scan)) => scan.repository,
        _ => return,
    };
    assert_eq!(repository_name_problem(&repository), None, "routed to {repository:?}");
});
