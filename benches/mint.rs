//! Leaf minting cost: a cold mint (fresh P-256 key + ECDSA signature + rustls signer) per new host,
//! and a warm `LeafCache::get` (what every intercepted handshake after the first one pays).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use sluice::tls::{CaOptions, CertAuthority, LeafCache};

fn ca() -> Arc<CertAuthority> {
    let opts = CaOptions {
        name_constraints: vec!["dingtalk.com".to_owned()],
        ..CaOptions::default()
    };
    Arc::new(CertAuthority::generate(&opts).expect("generate CA"))
}

fn mint(c: &mut Criterion) {
    let ca = ca();
    let mut group = c.benchmark_group("tls");
    let n = AtomicU64::new(0);
    group.bench_function("mint_cold", |b| {
        b.iter(|| {
            let host = format!("h{}.dingtalk.com", n.fetch_add(1, Ordering::Relaxed));
            ca.mint(&host).expect("mint")
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cache = LeafCache::new(Arc::clone(&ca), 1024);
    rt.block_on(cache.get("warm.dingtalk.com"))
        .expect("warm up");
    group.bench_function("mint_cached", |b| {
        b.iter(|| rt.block_on(cache.get("warm.dingtalk.com")).expect("get"))
    });
    group.finish();
}

criterion_group!(benches, mint);
criterion_main!(benches);
