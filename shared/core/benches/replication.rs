//! How fast replication is judged: a `team-*/*` target over registries of 1,000, 10,000 and 100,000
//! repositories, where every tenth repository has a nested one the glob leaves out (so prefixes must steer
//! around them), from an empty configuration (drift: prefixes chosen) and from the fixed one (compliant).
//! Run with `cargo bench -p warden-core --bench replication`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use warden_core::baseline::Mode;
use warden_core::glob::NameGlob;
use warden_core::replication::{
    judge, Judgement, RegistryReplication, ReplicationConfiguration, ReplicationSettings, ReplicationTarget,
};

fn registry(size: usize) -> Vec<String> {
    (0..size)
        .map(|i| match i % 10 {
            0 => format!("team-{}/old-{i:06}/legacy", i % 40),
            _ => format!("team-{}/svc-{i:06}", i % 40),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let settings = ReplicationSettings {
        mode: Mode::Enforce,
        targets: vec![ReplicationTarget {
            repositories: vec![NameGlob::new("team-1*/*").expect("valid glob")],
            regions: vec!["eu-west-1".into()],
            registries: Vec::new(),
        }],
    };
    let empty = RegistryReplication {
        registry_id: "123456789012".into(),
        region: "us-east-1".into(),
        configuration: ReplicationConfiguration::default(),
    };
    let mut group = c.benchmark_group("replication judge");
    for size in [1_000, 10_000, 100_000] {
        let repositories = registry(size);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("drift", size), &repositories, |b, names| {
            b.iter(|| judge(&settings, &empty, names, |_| false))
        });
        let fixed = match judge(&settings, &empty, &repositories, |_| false) {
            Judgement::Drift { configuration, .. } => configuration,
            other => panic!("expected drift, got {other:?}"),
        };
        let have = RegistryReplication { configuration: fixed, ..empty.clone() };
        group.bench_with_input(BenchmarkId::new("compliant", size), &repositories, |b, names| {
            b.iter(|| judge(&settings, &have, names, |_| false))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
