//! The bounded leaf cache. Each host has one slot holding a `tokio::sync::OnceCell`, created under the
//! map's lock, so concurrent handshakes for one host await the same mint instead of each minting
//! (the check-then-insert race). Entries go stale well before their leaf expires; the least recently
//! used slot is evicted when the cache is full.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use super::ca::CertAuthority;
use super::host::LeafHost;
use super::server::server_config;
use super::TlsError;

/// A cached leaf never serves past half of its remaining validity, and never longer than this.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// A minted leaf and the server config that presents it.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub certified_key: Arc<CertifiedKey>,
    pub server_config: Arc<ServerConfig>,
}

#[derive(Clone)]
struct Entry {
    leaf: Leaf,
    fresh_until: Instant,
}

struct Slot {
    cell: Arc<OnceCell<Entry>>,
    last_used: u64,
}

#[derive(Default)]
struct Slots {
    map: HashMap<String, Slot>,
    clock: u64,
}

pub struct LeafCache {
    ca: Arc<CertAuthority>,
    capacity: usize,
    ttl: Duration,
    slots: Mutex<Slots>,
    mints: AtomicU64,
}

impl std::fmt::Debug for LeafCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("mints", &self.mint_count())
            .finish_non_exhaustive()
    }
}

impl LeafCache {
    /// A cache of at most `capacity` hosts (at least 1).
    pub fn new(ca: Arc<CertAuthority>, capacity: usize) -> Self {
        LeafCache {
            ca,
            capacity: capacity.max(1),
            ttl: DEFAULT_TTL,
            slots: Mutex::new(Slots::default()),
            mints: AtomicU64::new(0),
        }
    }

    /// Caps how long an entry is served (tests use zero to force re-minting).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The leaf for `host` (SNI, else the CONNECT host, without port), minting it at most once however
    /// many callers ask at the same time. A failed mint is not cached.
    pub async fn get(&self, host: &str) -> Result<Leaf, TlsError> {
        let host = LeafHost::parse(host)?;
        let key = host.to_string();
        let cell = self.slot_for(&key);
        let result = cell
            .get_or_try_init(|| async { self.mint_entry(&host).await })
            .await;
        match result {
            Ok(entry) => Ok(entry.leaf.clone()),
            Err(e) => {
                let mut slots = self.lock();
                if slots
                    .map
                    .get(&key)
                    .is_some_and(|s| Arc::ptr_eq(&s.cell, &cell))
                {
                    slots.map.remove(&key);
                }
                Err(e)
            }
        }
    }

    /// Hosts currently cached (including mints in flight).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Leaves minted since the cache was made (a metric, and what the single-flight test counts).
    pub fn mint_count(&self) -> u64 {
        self.mints.load(Ordering::Relaxed)
    }

    pub fn ca(&self) -> &Arc<CertAuthority> {
        &self.ca
    }

    /// The cell for `key`: the existing one if it is in flight or fresh, else a new empty one. Choosing
    /// and inserting happen under one lock, which is what makes the mint single-flight.
    fn slot_for(&self, key: &str) -> Arc<OnceCell<Entry>> {
        let now = Instant::now();
        let mut guard = self.lock();
        let slots = &mut *guard;
        slots.clock += 1;
        let clock = slots.clock;
        if let Some(slot) = slots.map.get_mut(key) {
            if slot.cell.get().is_none_or(|e| e.fresh_until > now) {
                slot.last_used = clock;
                return Arc::clone(&slot.cell);
            }
        }
        if !slots.map.contains_key(key) && slots.map.len() >= self.capacity {
            // A linear scan is fine: it only runs on a miss, which is about to cost a key generation.
            let oldest = slots
                .map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                slots.map.remove(&oldest);
            }
        }
        let cell = Arc::new(OnceCell::new());
        slots.map.insert(
            key.to_owned(),
            Slot {
                cell: Arc::clone(&cell),
                last_used: clock,
            },
        );
        cell
    }

    async fn mint_entry(&self, host: &LeafHost) -> Result<Entry, TlsError> {
        self.mints.fetch_add(1, Ordering::Relaxed);
        // Key generation and signing take tens of microseconds: off the async workers.
        let (ca, h) = (Arc::clone(&self.ca), host.clone());
        let minted = match tokio::task::spawn_blocking(move || ca.mint_for(&h)).await {
            Ok(r) => r?,
            // The blocking pool is shutting down: mint here rather than fail the handshake.
            Err(_) => self.ca.mint_for(host)?,
        };
        let server_config = server_config(Arc::clone(&minted.key))?;
        let remaining = minted.not_after - OffsetDateTime::now_utc();
        let half_life = Duration::try_from(remaining / 2).unwrap_or(Duration::ZERO);
        Ok(Entry {
            leaf: Leaf {
                certified_key: minted.key,
                server_config,
            },
            fresh_until: Instant::now() + half_life.min(self.ttl),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // The map stays consistent even if a holder panicked: every mutation is a single insert/remove.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{client_trusting, dingtalk_ca, handshake};
    use super::*;

    fn cache(capacity: usize) -> Arc<LeafCache> {
        Arc::new(LeafCache::new(Arc::new(dingtalk_ca()), capacity))
    }

    fn leaf_der(leaf: &Leaf) -> Vec<u8> {
        leaf.certified_key.cert.first().expect("leaf").to_vec()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_concurrent_gets_for_one_host_mint_once() {
        let cache = cache(16);
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, barrier) = (Arc::clone(&cache), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    cache.get("a.dingtalk.com").await.map(|l| leaf_der(&l))
                })
            })
            .collect();
        let mut ders = Vec::new();
        for t in tasks {
            ders.push(t.await.expect("join").expect("get"));
        }
        assert_eq!(cache.mint_count(), 1);
        assert!(
            ders.windows(2).all(|w| w[0] == w[1]),
            "all callers got the same leaf"
        );
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn spellings_of_one_host_share_an_entry_and_distinct_hosts_do_not() {
        let cache = cache(16);
        let a = cache.get("a.dingtalk.com").await.expect("a");
        let a2 = cache.get("A.DINGTALK.COM.").await.expect("a again");
        let b = cache.get("b.dingtalk.com").await.expect("b");
        assert_eq!(leaf_der(&a), leaf_der(&a2));
        assert!(Arc::ptr_eq(&a.server_config, &a2.server_config));
        assert_ne!(leaf_der(&a), leaf_der(&b));
        assert_eq!(cache.mint_count(), 2);
    }

    #[tokio::test]
    async fn capacity_evicts_the_least_recently_used() {
        let cache = cache(2);
        let a = cache.get("a.dingtalk.com").await.expect("a");
        cache.get("b.dingtalk.com").await.expect("b");
        cache.get("a.dingtalk.com").await.expect("touch a");
        cache.get("c.dingtalk.com").await.expect("c evicts b");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.mint_count(), 3);
        let a_again = cache.get("a.dingtalk.com").await.expect("a still cached");
        assert_eq!(leaf_der(&a), leaf_der(&a_again));
        assert_eq!(cache.mint_count(), 3);
        cache.get("b.dingtalk.com").await.expect("b re-minted");
        assert_eq!(cache.mint_count(), 4);
    }

    #[tokio::test]
    async fn stale_entries_are_reminted() {
        let cache = LeafCache::new(Arc::new(dingtalk_ca()), 4).with_ttl(Duration::ZERO);
        let first = cache.get("a.dingtalk.com").await.expect("first");
        let second = cache.get("a.dingtalk.com").await.expect("second");
        assert_ne!(leaf_der(&first), leaf_der(&second));
        assert_eq!(cache.mint_count(), 2);
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn failed_mints_are_not_cached() {
        let cache = cache(4);
        for _ in 0..2 {
            let err = cache.get("bank.example").await.expect_err("not permitted");
            assert!(matches!(err, TlsError::NotPermitted { .. }), "{err}");
        }
        assert!(cache.is_empty());
        assert!(matches!(
            cache.get("*.x").await,
            Err(TlsError::BadHost { .. })
        ));
    }

    #[tokio::test]
    async fn cached_server_config_completes_a_handshake() {
        let cache = cache(4);
        let leaf = cache.get("x.dingtalk.com").await.expect("leaf");
        let client = client_trusting(cache.ca().cert_der(), &[b"h2", b"http/1.1"]);
        let alpn = handshake(client, leaf.server_config, "x.dingtalk.com")
            .await
            .expect("handshake");
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    }
}
