//! How fast a lifecycle preview is: 10 rules over 10,000, 100,000 and 1,000,000 images.
//! Run with `cargo bench -p warden-core --bench lifecycle_preview`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use warden_core::lifecycle::{preview, Image, LifecyclePolicy, StorageClass};

const DAY: i64 = 86_400_000;
const NOW: i64 = 2_000 * DAY;

/// Ten rules of every kind: prefixes, patterns, untagged, age, pull time, and a final `any` rule.
fn policy() -> LifecyclePolicy {
    let tagged = |priority: u64, key: &str, values: serde_json::Value, count: serde_json::Value| {
        let mut selection = json!({"tagStatus": "tagged"});
        selection[key] = values;
        for (k, v) in count.as_object().into_iter().flatten() {
            selection[k] = v.clone();
        }
        json!({"rulePriority": priority, "selection": selection, "action": {"type": "expire"}})
    };
    let keep = |n: u64| json!({"countType": "imageCountMoreThan", "countNumber": n});
    let days = |kind: &str, n: u64| json!({"countType": kind, "countUnit": "days", "countNumber": n});
    let rules = json!([
        tagged(1, "tagPrefixList", json!(["prod"]), keep(50)),
        tagged(2, "tagPrefixList", json!(["release", "v"]), keep(100)),
        tagged(3, "tagPatternList", json!(["v*-rc*"]), days("sinceImagePushed", 30)),
        tagged(4, "tagPatternList", json!(["*-snapshot-*"]), days("sinceImagePushed", 7)),
        tagged(5, "tagPrefixList", json!(["beta"]), keep(20)),
        tagged(6, "tagPrefixList", json!(["feature-"]), days("sinceImagePulled", 14)),
        tagged(7, "tagPatternList", json!(["pr-*"]), keep(200)),
        tagged(8, "tagPrefixList", json!(["dev"]), days("sinceImagePushed", 3)),
        {"rulePriority": 9, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
        {"rulePriority": 10, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5000}, "action": {"type": "expire"}},
    ]);
    LifecyclePolicy::parse(&json!({ "rules": rules }).to_string()).expect("the benchmark policy is valid")
}

/// `count` images with realistic tags (a small deterministic generator, no randomness crate needed).
fn images(count: usize) -> Vec<Image> {
    let kinds = ["prod", "release", "v1.2", "v3-rc", "app-snapshot-", "beta", "feature-x", "pr-", "dev", ""];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let kind = kinds[(state % kinds.len() as u64) as usize];
            let tags = match kind {
                "" => vec![],
                "v1.2" => vec![format!("v1.2.{i}"), format!("release-{i}")],
                "v3-rc" => vec![format!("v3-rc{i}")],
                other => vec![format!("{other}{i}")],
            };
            Image {
                digest: format!("sha256:{i:064x}"),
                tags,
                pushed_at_ms: NOW - ((state >> 20) % (400 * DAY as u64)) as i64,
                last_pulled_ms: (i % 3 == 0).then_some(NOW - ((state >> 8) % (60 * DAY as u64)) as i64),
                archived_at_ms: None,
                storage_class: StorageClass::Standard,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let mut group = c.benchmark_group("lifecycle_preview_10_rules");
    for count in [10_000usize, 100_000, 1_000_000] {
        let images = images(count);
        group.throughput(Throughput::Elements(count as u64));
        if count >= 1_000_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(count), &images, |b, images| {
            b.iter(|| preview(&policy, images, NOW))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
