//! The node's caches by name and by the id Java addresses them with, the clock that versions
//! their writes, and the feed of what the Java near caches must drop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use super::feed::{Feed, Invalidation};
use super::hlc::Hlc;
use super::store::{Change, Effect, Mode, Record, Store};
use super::CacheError;
use crate::clocks::MAX_AHEAD;
use crate::limits::{check_name, check_payload, Named, Payload};
use crate::logging::Throttle;

/// Caches one node holds at most; names past it, from code or from a peer, are refused.
pub const MAX_CACHES: usize = 10_000;

pub struct Stores {
    pub hlc: Hlc,
    /// Warnings about peers' writes refused (past the limits, versioned ahead of this clock):
    /// a peer that keeps sending them must not flood the log.
    refused: Throttle,
    pub feed: Feed,
    by_name: RwLock<HashMap<Arc<str>, Arc<Store>>>,
    /// Id `n` is at index `n - 1`; ids are never reused.
    by_id: RwLock<Vec<Arc<Store>>>,
}

impl Stores {
    pub fn new(node_id: u64) -> Stores {
        Stores {
            hlc: Hlc::new(node_id),
            refused: Throttle::new(Duration::from_secs(10)),
            feed: Feed::default(),
            by_name: RwLock::default(),
            by_id: RwLock::default(),
        }
    }

    pub fn by_id(&self, id: u64) -> Option<Arc<Store>> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.by_id.read().get(index).cloned()
    }

    /// The store of this name, created in `mode` when it does not exist yet; refused past the
    /// limits on names and on the number of caches.
    pub fn named(&self, name: &str, mode: Mode) -> Result<Arc<Store>, CacheError> {
        if let Some(store) = self.by_name.read().get(name) {
            return Ok(Arc::clone(store));
        }
        check_name(Named::Cache, name)?;
        let mut by_name = self.by_name.write();
        if let Some(store) = by_name.get(name) {
            return Ok(Arc::clone(store));
        }
        if by_name.len() >= MAX_CACHES {
            return Err(CacheError::TooMany);
        }
        let mut by_id = self.by_id.write();
        let name: Arc<str> = Arc::from(name);
        let store = Arc::new(Store::new(by_id.len() as u64 + 1, Arc::clone(&name), mode));
        by_id.push(Arc::clone(&store));
        by_name.insert(name, Arc::clone(&store));
        Ok(store)
    }

    /// Applies a write another node made, and adds to `dropped` what the near cache must drop
    /// if the cache is open here.
    pub fn apply_remote(&self, name: &str, record: &Record, dropped: &mut Vec<Invalidation>) {
        let mode = match record.change {
            Change::Put { .. } => Mode::Replicated,
            _ => Mode::Invalidation,
        };
        let store = match self
            .named(name, mode)
            .and_then(|store| check_record(&store.name, record).map(|()| store))
        {
            Ok(store) => store,
            Err(e) => {
                if let Some(count) = self.refused.allow() {
                    tracing::warn!(error = %e, refused = count, "cache: a peer's write this node cannot hold was dropped");
                }
                return;
            }
        };
        if let Err(ahead) = self.hlc.observe(record.version) {
            if let Some(count) = self.refused.allow() {
                tracing::warn!(
                    cache = %store.name,
                    ahead_s = ahead.as_secs(),
                    refused = count,
                    "cache: refused a peer's write versioned more than {} s past this node's clock (not applied); check the clocks of the nodes (NTP)",
                    MAX_AHEAD.as_secs()
                );
            }
            return;
        }
        let effect = store.apply(record);
        invalidations(&store, effect, dropped);
    }

    /// Hands the near caches what they must drop, in one go.
    pub fn notify(&self, dropped: Vec<Invalidation>) {
        if !dropped.is_empty() {
            self.feed.push(dropped, || self.opened_ids());
        }
    }

    fn opened_ids(&self) -> Vec<u64> {
        self.all()
            .iter()
            .filter(|s| s.is_opened())
            .map(|s| s.id)
            .collect()
    }

    pub fn all(&self) -> Vec<Arc<Store>> {
        self.by_id.read().clone()
    }

    /// Every cache's records (see `Store::snapshot`), each with its cache's name.
    pub fn snapshot(&self, with_invalidations: bool) -> Vec<(Arc<str>, Record)> {
        self.all()
            .iter()
            .flat_map(|store| {
                store
                    .snapshot(with_invalidations)
                    .into_iter()
                    .map(|r| (Arc::clone(&store.name), r))
            })
            .collect()
    }

    pub fn sweep(&self) {
        let mut dropped = Vec::new();
        for store in self.all() {
            invalidations(&store, store.sweep(), &mut dropped);
        }
        self.notify(dropped);
    }
}

/// A peer's record within the limits this node's own writes keep (a peer of another build, or
/// one that misbehaves, must not store what this node would refuse).
fn check_record(cache: &str, record: &Record) -> Result<(), CacheError> {
    check_payload(Payload::CacheKey, record.key.len(), cache)?;
    if let Change::Put { value, .. } = &record.change {
        check_payload(Payload::CacheValue, value.len(), cache)?;
    }
    Ok(())
}

/// What the near cache of `store` must drop after `effect`; nothing unless Java opened it.
pub fn invalidations(store: &Store, effect: Effect, dropped: &mut Vec<Invalidation>) {
    if !store.is_opened() {
        return;
    }
    match effect {
        Effect::Nothing => {}
        Effect::Dropped(keys) => dropped.extend(keys.into_iter().map(|k| (store.id, Some(k)))),
        Effect::Cleared => dropped.push((store.id, None)),
    }
}
