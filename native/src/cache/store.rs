//! One named cache on one node: entries as bytes, each under the version of the write that made
//! it, merged by "the higher version wins" so that every node ends with the same value whatever
//! the order in which writes arrived.
//!
//! A removal leaves a tombstone (the key and its version, no value) for `TOMBSTONE_TTL`, so that
//! an older write arriving late cannot bring the value back; a clear leaves a watermark below
//! which every write is void. Evicted and expired entries become tombstones too.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::hlc::Version;
use crate::clocks::{now_micros, now_millis};

/// How long a removal is remembered. A write older than its removal that arrives later than
/// this (a peer cut off for longer, then resynced) is compared against nothing and kept.
const TOMBSTONE_TTL: Duration = Duration::from_secs(60);
/// Entries looked at to pick an eviction victim: sampled LRU, as Redis does.
const EVICTION_SAMPLE: usize = 8;
pub const NO_EXPIRY: u64 = u64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Writes ship their value to every member.
    Replicated,
    /// Values stay where they were written; the others only drop the key.
    Invalidation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Change {
    Put {
        value: Bytes,
        expires_at: u64,
    },
    /// "A write of this version happened elsewhere": drop the value held, whatever its version,
    /// unless it is the very value written (its bytes hash to `hash`). In INVALIDATION mode every
    /// node loads its values from the database, so a value written concurrently with another
    /// node's write may be stale even when its version is higher (two hosts' clocks differ), and
    /// dropping one costs only a reload; but two nodes that load and cache the same row must not
    /// keep dropping each other's copy.
    Invalidate {
        hash: u64,
    },
    Remove,
    /// Void every write older than the version; the record's key is empty.
    Clear,
}

/// A write as it travels between nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub key: Bytes,
    pub version: Version,
    pub change: Change,
}

/// What applying a write did to the values this node serves.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Nothing,
    /// These keys' values changed or went (the near cache must drop them).
    Dropped(Vec<Bytes>),
    Cleared,
}

struct Entry {
    value: Bytes,
    version: Version,
    expires_at: u64,
    /// Wall-clock microseconds of the last read or write, for eviction.
    touched: AtomicU64,
}

struct Inner {
    /// Entries with a value; sampled for eviction, so removed keys are kept apart.
    entries: IndexMap<Bytes, Entry>,
    /// Removed, invalidated, evicted and expired keys, with the version they went at.
    tombstones: HashMap<Bytes, Version>,
    cleared: Version,
    mode: Mode,
    max_entries: Option<usize>,
    ttl: Option<Duration>,
    /// Whether any entry ever had an expiry: only then is a sweep worth its full scan.
    expiring: bool,
    /// Entries evicted to keep the bound, ever.
    evictions: u64,
}

pub struct Store {
    pub id: u64,
    pub name: std::sync::Arc<str>,
    /// Set once Java opened the cache: only then does it have a near cache to invalidate.
    opened: AtomicBool,
    inner: RwLock<Inner>,
}

impl Store {
    /// A store with no bound and no expiry until it is opened: created when a peer's write
    /// arrives before this node's code asked for the cache.
    pub fn new(id: u64, name: std::sync::Arc<str>, mode: Mode) -> Store {
        Store {
            id,
            name,
            opened: AtomicBool::new(false),
            inner: RwLock::new(Inner {
                entries: IndexMap::new(),
                tombstones: HashMap::new(),
                cleared: Version::ZERO,
                mode,
                max_entries: None,
                ttl: None,
                expiring: false,
                evictions: 0,
            }),
        }
    }

    pub fn open(&self, mode: Mode, max_entries: Option<usize>, ttl: Option<Duration>) {
        let mut inner = self.inner.write();
        inner.mode = mode;
        inner.max_entries = max_entries;
        inner.ttl = ttl;
        inner.evict_to_bound();
        self.opened.store(true, Ordering::Release);
    }

    pub fn is_opened(&self) -> bool {
        self.opened.load(Ordering::Acquire)
    }

    /// The value and its expiry (epoch ms), unless absent or expired.
    pub fn get(&self, key: &[u8]) -> Option<(u64, Bytes)> {
        let inner = self.inner.read();
        let entry = inner.entries.get(key)?;
        let now = now_micros();
        if entry.expires_at <= now / 1000 {
            return None;
        }
        entry.touched.store(now, Ordering::Relaxed);
        Some((entry.expires_at, entry.value.clone()))
    }

    pub fn len(&self) -> usize {
        self.inner.read().entries.len()
    }

    pub fn evictions(&self) -> u64 {
        self.inner.read().evictions
    }

    /// The keys of the unexpired entries, at most `max` of them.
    pub fn keys(&self, max: usize) -> Vec<Bytes> {
        let inner = self.inner.read();
        let now = now_millis();
        inner
            .entries
            .iter()
            .filter(|(_, entry)| entry.expires_at > now)
            .map(|(key, _)| key.clone())
            .take(max)
            .collect()
    }

    /// Writes `value` at `version`, a version this node just made (so above anything held),
    /// and returns the record to ship (the value itself, or only its hash in INVALIDATION mode)
    /// and the keys evicted to make room.
    pub fn put(&self, key: Bytes, value: Bytes, version: Version) -> (Record, Vec<Bytes>) {
        let mut inner = self.inner.write();
        let expires_at = inner
            .ttl
            .map_or(NO_EXPIRY, |ttl| version.millis() + ttl.as_millis() as u64);
        let change = match inner.mode {
            Mode::Replicated => Change::Put {
                value: value.clone(),
                expires_at,
            },
            Mode::Invalidation => Change::Invalidate {
                hash: value_hash(&value),
            },
        };
        let evicted = inner.insert(key.clone(), value, version, expires_at);
        (
            Record {
                key,
                version,
                change,
            },
            evicted,
        )
    }

    /// Applies a write made here or elsewhere; an older one than what is held changes nothing.
    pub fn apply(&self, record: &Record) -> Effect {
        self.inner.write().apply(record)
    }

    /// Turns expired entries into tombstones and forgets old tombstones.
    pub fn sweep(&self) -> Effect {
        if !self.inner.read().needs_sweep() {
            return Effect::Nothing;
        }
        let now = now_millis();
        let forget_before = now.saturating_sub(TOMBSTONE_TTL.as_millis() as u64);
        let mut inner = self.inner.write();
        let Inner {
            entries,
            tombstones,
            ..
        } = &mut *inner;
        let mut expired = Vec::new();
        entries.retain(|key, entry| {
            let live = entry.expires_at > now;
            if !live {
                tombstones.insert(key.clone(), entry.version);
                expired.push(key.clone());
            }
            live
        });
        tombstones.retain(|_, version| version.millis() >= forget_before);
        if expired.is_empty() {
            Effect::Nothing
        } else {
            Effect::Dropped(expired)
        }
    }

    /// Everything another node needs to hold what this one holds: values (REPLICATED) or
    /// versions to invalidate against (INVALIDATION, only when `with_invalidations`),
    /// tombstones, and the clear watermark.
    pub fn snapshot(&self, with_invalidations: bool) -> Vec<Record> {
        let inner = self.inner.read();
        if inner.mode == Mode::Invalidation && !with_invalidations {
            return Vec::new();
        }
        let now = now_millis();
        let values = inner.entries.iter().map(|(key, entry)| Record {
            key: key.clone(),
            version: entry.version,
            change: if inner.mode == Mode::Replicated && entry.expires_at > now {
                Change::Put {
                    value: entry.value.clone(),
                    expires_at: entry.expires_at,
                }
            } else {
                Change::Invalidate {
                    hash: value_hash(&entry.value),
                }
            },
        });
        let removals = inner.tombstones.iter().map(|(key, version)| Record {
            key: key.clone(),
            version: *version,
            change: Change::Remove,
        });
        let mut records: Vec<Record> = values.chain(removals).collect();
        if inner.cleared > Version::ZERO {
            records.push(Record {
                key: Bytes::new(),
                version: inner.cleared,
                change: Change::Clear,
            });
        }
        records
    }
}

/// A digest of a value, the same on every node of a cluster (they run one build of this
/// library: the version check sees to it).
fn value_hash(value: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(value);
    hasher.finish()
}

impl Inner {
    fn needs_sweep(&self) -> bool {
        self.expiring || !self.tombstones.is_empty()
    }

    fn held_version(&self, key: &[u8]) -> Option<Version> {
        self.entries
            .get(key)
            .map(|e| e.version)
            .or_else(|| self.tombstones.get(key).copied())
    }

    fn apply(&mut self, record: &Record) -> Effect {
        if record.version <= self.cleared {
            return Effect::Nothing;
        }
        let key = &record.key;
        let held = self.held_version(key);
        let version = match record.change {
            Change::Clear => {
                let cleared = record.version;
                self.cleared = cleared;
                self.entries.retain(|_, e| e.version > cleared);
                self.tombstones.retain(|_, v| *v > cleared);
                return Effect::Cleared;
            }
            // See `Change::Invalidate`: whatever the versions, the value goes unless it is the same.
            Change::Invalidate { hash } => {
                let version = held.map_or(record.version, |h| h.max(record.version));
                if let Some(entry) = self.entries.get_mut(key) {
                    if value_hash(&entry.value) == hash {
                        entry.version = version;
                        return Effect::Nothing;
                    }
                }
                version
            }
            _ if held.is_some_and(|h| h >= record.version) => return Effect::Nothing,
            _ => record.version,
        };
        match &record.change {
            Change::Put { value, expires_at } => {
                let mut dropped = vec![key.clone()];
                dropped.extend(self.insert(key.clone(), value.clone(), version, *expires_at));
                Effect::Dropped(dropped)
            }
            _ => {
                let had_value = self.entries.swap_remove(key).is_some();
                self.tombstones.insert(key.clone(), version);
                if had_value {
                    Effect::Dropped(vec![key.clone()])
                } else {
                    Effect::Nothing
                }
            }
        }
    }

    /// Stores a value and returns the keys evicted to make room for it.
    fn insert(
        &mut self,
        key: Bytes,
        value: Bytes,
        version: Version,
        expires_at: u64,
    ) -> Vec<Bytes> {
        self.tombstones.remove(&key);
        self.expiring |= expires_at != NO_EXPIRY;
        self.entries.insert(
            key,
            Entry {
                value,
                version,
                expires_at,
                touched: AtomicU64::new(now_micros()),
            },
        );
        self.evict_to_bound()
    }

    /// Evicts sampled least-recently-used entries until the bound holds.
    fn evict_to_bound(&mut self) -> Vec<Bytes> {
        let Some(max) = self.max_entries else {
            return Vec::new();
        };
        let mut evicted = Vec::new();
        while self.entries.len() > max {
            let len = self.entries.len();
            let victim = (0..EVICTION_SAMPLE)
                .map(|_| rand::random_range(0..len))
                .min_by_key(|&i| self.entries[i].touched.load(Ordering::Relaxed));
            if let Some((key, entry)) = victim.and_then(|i| self.entries.swap_remove_index(i)) {
                self.tombstones.insert(key.clone(), entry.version);
                evicted.push(key);
            }
        }
        self.evictions += evicted.len() as u64;
        evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(clock: u64, node: u64) -> Version {
        Version { clock, node }
    }

    fn put(key: &'static [u8], value: &'static [u8], version: Version) -> Record {
        Record {
            key: Bytes::from_static(key),
            version,
            change: Change::Put {
                value: Bytes::from_static(value),
                expires_at: NO_EXPIRY,
            },
        }
    }

    fn value(store: &Store, key: &[u8]) -> Option<Bytes> {
        store.get(key).map(|(_, v)| v)
    }

    #[test]
    fn any_order_of_the_same_writes_ends_in_the_same_value() {
        let writes = [
            put(b"k", b"a", v(5, 1)),
            put(b"k", b"b", v(5, 2)),
            put(b"k", b"c", v(4, 3)),
            Record {
                key: Bytes::from_static(b"k"),
                version: v(3, 1),
                change: Change::Remove,
            },
        ];
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]] {
            let store = Store::new(1, "c".into(), Mode::Replicated);
            for i in order {
                store.apply(&writes[i]);
            }
            assert_eq!(value(&store, b"k").as_deref(), Some(&b"b"[..]), "{order:?}");
        }
    }

    #[test]
    fn a_removal_and_a_clear_void_older_writes_arriving_late() {
        let store = Store::new(1, "c".into(), Mode::Replicated);
        store.apply(&Record {
            key: Bytes::from_static(b"k"),
            version: v(10, 1),
            change: Change::Remove,
        });
        assert_eq!(store.apply(&put(b"k", b"old", v(9, 2))), Effect::Nothing);
        assert_eq!(value(&store, b"k"), None);
        store.apply(&put(b"j", b"new", v(30, 1)));
        store.apply(&Record {
            key: Bytes::new(),
            version: v(20, 2),
            change: Change::Clear,
        });
        assert_eq!(store.apply(&put(b"x", b"old", v(19, 1))), Effect::Nothing);
        assert_eq!(value(&store, b"j").as_deref(), Some(&b"new"[..]));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn an_invalidation_drops_another_value_whatever_its_version_but_keeps_the_same_value() {
        let store = Store::new(1, "c".into(), Mode::Invalidation);
        let (shipped, _) = store.put(
            Bytes::from_static(b"k"),
            Bytes::from_static(b"row"),
            v(50, 1),
        );
        let other = Store::new(2, "c".into(), Mode::Invalidation);
        other.put(
            Bytes::from_static(b"k"),
            Bytes::from_static(b"row"),
            v(60, 2),
        );
        assert_eq!(
            other.apply(&shipped),
            Effect::Nothing,
            "same row loaded on both"
        );
        assert!(value(&other, b"k").is_some());
        other.put(
            Bytes::from_static(b"k"),
            Bytes::from_static(b"stale"),
            v(70, 2),
        );
        assert_eq!(
            other.apply(&shipped),
            Effect::Dropped(vec![Bytes::from_static(b"k")]),
            "an older invalidation of another value still drops"
        );
        assert_eq!(
            other.apply(&put(b"k", b"older", v(65, 3))),
            Effect::Nothing,
            "the tombstone keeps the higher version"
        );
    }

    #[test]
    fn eviction_keeps_the_bound_and_prefers_the_least_recently_used() {
        let store = Store::new(1, "c".into(), Mode::Replicated);
        store.open(Mode::Replicated, Some(50), None);
        store.apply(&put(b"hot", b"v", v(1, 1)));
        let mut evicted = 0;
        for i in 0..500u64 {
            std::thread::sleep(Duration::from_micros(50));
            value(&store, b"hot");
            let key = Bytes::from(format!("k{i}"));
            let (_, dropped) = store.put(key, Bytes::from_static(b"v"), v(2 + i, 1));
            evicted += dropped.len();
        }
        assert_eq!(store.len(), 50);
        assert_eq!(evicted, 451);
        assert!(
            value(&store, b"hot").is_some(),
            "a key read all along stays"
        );
    }
}
