//! Audit trail and HAR loader costs: appending a chained record (memory and file),
//! verifying a log, redacting a path, loading a real HAR.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice::audit::{redact_path, verify, AuditRecord, AuditSink, RecordKind};
use sluice::replay::har;

fn record() -> AuditRecord {
    let mut rec = AuditRecord::new(
        RecordKind::Request,
        "10.1.2.3:50000",
        "oapi.dingtalk.com",
        443,
    )
    .with_request(
        "POST",
        "/robot/send?access_token=abcdef0123456789&timestamp=1700000000000&sign=xyz%3D",
    );
    rec.region = "cn-hangzhou".into();
    rec.jurisdiction = "mainland-china".into();
    rec.action = "block".into();
    rec.rule = Some("no-identity-to-mainland".into());
    rec.policy = "0".repeat(64);
    rec.bytes = 123_456;
    rec
}

fn bench_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(1));
    // Building a record: ticket id (OS RNG), timestamp, path redaction.
    group.bench_function("record_new", |b| b.iter(record));
    let template = record();
    let memory = AuditSink::memory();
    group.bench_function("append_memory", |b| {
        b.iter(|| memory.append(template.clone()).is_ok())
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = AuditSink::open(&dir.path().join("audit.jsonl")).expect("open");
    group.bench_function("append_file", |b| {
        b.iter(|| file.append(template.clone()).is_ok())
    });
    group.bench_function("redact_path", |b| {
        b.iter(|| {
            redact_path(
                "/robot/send?access_token=abcdef0123456789&timestamp=1700000000000&sign=xyz%3D",
            )
        })
    });
    let log = {
        let sink = AuditSink::memory();
        for _ in 0..10_000 {
            let _ = sink.append(record());
        }
        sink.lines().concat()
    };
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.bench_function("verify_10k", |b| b.iter(|| verify(log.as_bytes()).is_ok()));
    group.finish();
}

fn bench_har(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/har/real/safari.har");
    let bytes = std::fs::read(path).expect("safari.har");
    let mut group = c.benchmark_group("har");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("load_safari", |b| b.iter(|| har::load(&bytes).is_ok()));
    group.finish();
}

criterion_group!(benches, bench_append, bench_har);
criterion_main!(benches);
