//! Policy evaluation per request: destination lookup, body plan and verdict for a
//! mix of DingTalk hosts under the shipped regions and default policy.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::Deserialize;

use sluice::inspect::{Class, Findings};
use sluice::policy::{
    compile, LearnedRegions, Policy, PolicyConfig, RegionsConfig, RequestMeta, DEFAULT_POLICY_YAML,
    DEFAULT_REGIONS_YAML,
};

#[derive(Deserialize)]
struct Section {
    policy: PolicyConfig,
}

fn shipped() -> Option<Policy> {
    let regions: RegionsConfig = serde_yaml::from_str(DEFAULT_REGIONS_YAML).ok()?;
    let section: Section = serde_yaml::from_str(DEFAULT_POLICY_YAML).ok()?;
    compile(&section.policy, &regions).ok()
}

fn requests() -> Vec<(RequestMeta, Findings)> {
    let hkids = Findings {
        classes: [(Class::HkId, 3)].into_iter().collect(),
        ..Findings::default()
    };
    let phones = Findings {
        classes: [(Class::Phone, 4), (Class::Email, 2)].into_iter().collect(),
        ..Findings::default()
    };
    vec![
        (
            RequestMeta::new("POST", "oapi.dingtalk.com", "/media/upload?type=file"),
            hkids.clone(),
        ),
        (
            RequestMeta::new("PUT", "zjk-dualstack.trans.dingtalk.com", "/yundisk0/abc"),
            phones.clone(),
        ),
        (
            RequestMeta::new("PUT", "alidocs.oss-cn-zhangjiakou.aliyuncs.com", "/doc/1"),
            Findings::default(),
        ),
        (
            RequestMeta::new("POST", "api.dingtalk.io", "/v1.0/robot/groupMessages/send"),
            hkids,
        ),
        (
            RequestMeta::new("GET", "api.dingtalk.com", "/v1.0/contact/users/me"),
            Findings::default(),
        ),
        (
            RequestMeta::new("POST", "www.example.com", "/submit"),
            phones,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let Some(policy) = shipped() else {
        eprintln!("the shipped policy does not compile");
        return;
    };
    let learned = LearnedRegions::new(policy.learn_capacity());
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let reqs = requests();
    let n = reqs.len() as u64;

    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(n));
    g.bench_function("destination", |b| {
        b.iter(|| {
            for (meta, _) in &reqs {
                black_box(policy.destination(black_box(meta), &learned, now));
            }
        })
    });
    let dests: Vec<_> = reqs
        .iter()
        .map(|(m, _)| policy.destination(m, &learned, now))
        .collect();
    g.bench_function("plan", |b| {
        b.iter(|| {
            for ((meta, _), d) in reqs.iter().zip(&dests) {
                black_box(policy.plan(black_box(meta), d));
            }
        })
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            for ((meta, f), d) in reqs.iter().zip(&dests) {
                black_box(policy.evaluate(black_box(meta), d, f));
            }
        })
    });
    g.bench_function("per_request", |b| {
        b.iter(|| {
            for (meta, f) in &reqs {
                let d = policy.destination(black_box(meta), &learned, now);
                if policy.may_act_on_body(meta, &d) {
                    black_box(policy.evaluate(meta, &d, f));
                } else {
                    black_box(policy.decide_without_body(meta, &d));
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
