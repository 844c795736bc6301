//! Replicated caches: a store per named cache on every node (`store`), writes versioned by a
//! hybrid logical clock (`hlc`) and merged by "the higher version wins", shipped to the other
//! members over the encrypted transport, not through Raft (`outbox`), pulled by a joining node
//! (`sync`), and a feed telling the Java near caches what to drop (`feed`).
//! docs/cache.md says what a user sees; docs/architecture.md, "Caches", why it is built so.

mod feed;
pub(crate) mod hlc;
mod outbox;
mod records;
mod registry;
pub(crate) mod store;
mod sync;

pub use feed::Invalidation;
pub use hlc::Version;
pub use records::RecordSet;
pub use store::{Change, Mode, Record};
pub use sync::{SyncPage, SyncRequest};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};

use self::outbox::Outbox;
use self::registry::{invalidations, Stores, MAX_CACHES};
use self::store::{Effect, Store};
use self::sync::Sessions;
use crate::crypto::ClusterKeys;
use crate::limits::{check_payload, LimitError, Payload};
use crate::membership::View;
use crate::transport::Faults;

const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Writes of one node to the caches of another; answered by `CacheWritesAck` once applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheBatch {
    /// The writing node's name, for log messages.
    pub origin: String,
    pub set: RecordSet,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CacheError {
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("a node holds at most {MAX_CACHES} caches")]
    TooMany,
    #[error("no cache {0} is open on this node")]
    NoCache(u64),
    #[error("this node has not received the cluster's cache entries within {0:?}; its reads would miss them, so the cache is not opened yet (retry)")]
    NotCaughtUp(Duration),
}

pub struct Caches {
    origin: String,
    stores: Arc<Stores>,
    outbox: Arc<Outbox>,
    sessions: Sessions,
    view: View,
    keys: ClusterKeys,
    faults: Faults,
    caught_up: Mutex<bool>,
    caught_up_changed: Condvar,
}

impl Caches {
    /// Must be called on the node's runtime: the senders and the sweeper are spawned on it.
    pub fn start(
        origin: String,
        node_id: u64,
        view: View,
        keys: ClusterKeys,
        faults: Faults,
    ) -> Arc<Caches> {
        let stores = Arc::new(Stores::new(node_id));
        let outbox = Outbox::start(
            origin.clone(),
            Arc::clone(&stores),
            view.clone(),
            keys.clone(),
            faults.clone(),
        );
        let sweeper = Arc::downgrade(&stores);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                match sweeper.upgrade() {
                    Some(stores) => stores.sweep(),
                    None => return,
                }
            }
        });
        Arc::new(Caches {
            origin,
            stores,
            outbox,
            sessions: Sessions::default(),
            view,
            keys,
            faults,
            caught_up: Mutex::new(false),
            caught_up_changed: Condvar::new(),
        })
    }

    /// Opens the cache for this node's code, once it has caught up with the members it joined
    /// (waiting up to `wait`), and returns its id.
    pub fn open(
        &self,
        name: &str,
        mode: Mode,
        max_entries: Option<usize>,
        ttl: Option<Duration>,
        wait: Duration,
    ) -> Result<u64, CacheError> {
        let store = self.stores.named(name, mode)?;
        let mut caught_up = self.caught_up.lock();
        if !*caught_up {
            self.caught_up_changed
                .wait_while_for(&mut caught_up, |c| !*c, wait);
            if !*caught_up {
                return Err(CacheError::NotCaughtUp(wait));
            }
        }
        store.open(mode, max_entries, ttl);
        Ok(store.id)
    }

    fn store(&self, id: u64) -> Result<Arc<Store>, CacheError> {
        self.stores.by_id(id).ok_or(CacheError::NoCache(id))
    }

    /// The value and its expiry (epoch ms); local, no network.
    pub fn get(&self, id: u64, key: &[u8]) -> Result<Option<(u64, Bytes)>, CacheError> {
        let store = self.store(id)?;
        check_payload(Payload::CacheKey, key.len(), &store.name)?;
        Ok(store.get(key))
    }

    pub fn len(&self, id: u64) -> Result<usize, CacheError> {
        Ok(self.store(id)?.len())
    }

    /// The keys this node holds, at most `max`; local, no network.
    pub fn keys(&self, id: u64, max: usize) -> Result<Vec<Bytes>, CacheError> {
        Ok(self.store(id)?.keys(max))
    }

    /// Each key's value and expiry, as `get` answers; local, no network.
    pub fn get_all(
        &self,
        id: u64,
        keys: &[Bytes],
    ) -> Result<Vec<Option<(u64, Bytes)>>, CacheError> {
        let store = self.store(id)?;
        keys.iter()
            .map(|key| {
                check_payload(Payload::CacheKey, key.len(), &store.name)?;
                Ok(store.get(key))
            })
            .collect()
    }

    pub fn put(&self, id: u64, key: Bytes, value: Bytes) -> Result<(), CacheError> {
        self.put_all(id, vec![(key, value)])
    }

    /// Writes each entry as a put of its own; none is written unless all are within the limits.
    pub fn put_all(&self, id: u64, entries: Vec<(Bytes, Bytes)>) -> Result<(), CacheError> {
        let store = self.store(id)?;
        for (key, value) in &entries {
            check_payload(Payload::CacheKey, key.len(), &store.name)?;
            check_payload(Payload::CacheValue, value.len(), &store.name)?;
        }
        // The writer's own near cache drops the written keys itself; what was evicted to make
        // room is news to it.
        let mut dropped = Vec::new();
        for (key, value) in entries {
            let (record, evicted) = store.put(key, value, self.stores.hlc.tick());
            invalidations(&store, Effect::Dropped(evicted), &mut dropped);
            self.outbox.send(&store.name, record);
        }
        self.stores.notify(dropped);
        Ok(())
    }

    /// Entries evicted to keep the bound since the store was made.
    pub fn evictions(&self, id: u64) -> Result<u64, CacheError> {
        Ok(self.store(id)?.evictions())
    }

    pub fn remove(&self, id: u64, key: Bytes) -> Result<(), CacheError> {
        self.write(id, key, Change::Remove)
    }

    /// Voids every write made anywhere before now.
    pub fn clear(&self, id: u64) -> Result<(), CacheError> {
        self.write(id, Bytes::new(), Change::Clear)
    }

    fn write(&self, id: u64, key: Bytes, change: Change) -> Result<(), CacheError> {
        let store = self.store(id)?;
        check_payload(Payload::CacheKey, key.len(), &store.name)?;
        let record = Record {
            key,
            version: self.stores.hlc.tick(),
            change,
        };
        store.apply(&record);
        self.outbox.send(&store.name, record);
        Ok(())
    }

    /// A peer's writes: applied before the answer, so a sender that got it knows they landed.
    pub fn receive(&self, batch: CacheBatch) {
        let mut dropped = Vec::new();
        for (name, record) in batch.set.iter() {
            self.stores.apply_remote(name, record, &mut dropped);
        }
        self.stores.notify(dropped);
        tracing::trace!(origin = %batch.origin, records = batch.set.len(), "cache: writes applied");
    }

    /// A page of this node's records for a joiner, who is from now on sent every write.
    pub fn serve_sync(&self, request: &SyncRequest) -> SyncPage {
        if !*self.caught_up.lock() {
            return SyncPage {
                ready: false,
                set: RecordSet::default(),
                next: None,
            };
        }
        if request.from == 0 {
            self.outbox.include(&request.requester, request.addr);
        }
        self.sessions
            .page(request, || Arc::new(self.stores.snapshot(false)))
    }

    /// Pulls the replicated entries from every member that has caught up, then lets `open`
    /// through. Spawned once the node is a member.
    pub async fn catch_up(self: Arc<Self>) {
        let snapshot = self.view.snapshot();
        let local = snapshot.local.clone();
        let peers: Vec<_> = self
            .view
            .live_members()
            .into_iter()
            .filter(|m| m.name != local.name)
            .collect();
        let mut records = 0;
        for peer in &peers {
            let outcome = sync::pull_from(&local, peer, &self.keys, &self.faults, |set| {
                records += set.len();
                self.receive(CacheBatch {
                    origin: peer.name.clone(),
                    set,
                });
            })
            .await;
            match outcome {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(peer = %peer.name, "cache: peer is catching up itself; not pulled from")
                }
                Err(e) => {
                    tracing::warn!(peer = %peer.name, error = %e, "cache: could not pull the cache entries from a peer")
                }
            }
        }
        tracing::info!(node = %self.origin, peers = peers.len(), records, "cache: caught up");
        *self.caught_up.lock() = true;
        self.caught_up_changed.notify_all();
    }

    /// Up to `max` invalidations for the Java near caches, waiting up to `timeout`; None once
    /// the node is closed.
    pub fn invalidations(&self, timeout: Duration, max: usize) -> Option<Vec<Invalidation>> {
        self.stores.feed.poll(timeout, max)
    }

    pub fn close(&self) {
        self.stores.feed.close();
        self.outbox.close();
    }
}
