//! Any text as a baseline file, TOML or JSON: parsing never panics, and a baseline that parses resolves
//! settings for any repository name without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::baseline::Baseline;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for name in ["fuzz.toml", "fuzz.json"] {
        if let Ok(baseline) = Baseline::parse(name, text) {
            for repository in ["app", "team-a/api", "prod/payments/api", "legacy/x"] {
                let _ = baseline.resolve(repository);
            }
        }
    }
});
