//! The node's face for caches (see `crate::cache`). Reads stay local and keep working after a
//! panic; writes are refused then (API.md: a panicked node serves its own copy, and must not
//! spread writes a majority may never see).

use std::time::Duration;

use bytes::Bytes;

use super::Node;
use crate::cache::{CacheError, Invalidation, Mode};
use crate::error::{ClusterError, Result};

/// A bad name or an oversized entry is the caller's mistake (IllegalArgumentException in Java,
/// named by what was wrong); the rest is the cluster's state (ClusterException).
impl From<CacheError> for ClusterError {
    fn from(e: CacheError) -> ClusterError {
        match e {
            CacheError::Limit(limit) => ClusterError::Limit(limit),
            CacheError::TooMany => ClusterError::config("name", e.to_string()),
            CacheError::NoCache(_) | CacheError::NotCaughtUp(_) => {
                ClusterError::Protocol(e.to_string())
            }
        }
    }
}

impl Node {
    pub fn cache_open(
        &self,
        name: &str,
        mode: Mode,
        max_entries: Option<usize>,
        ttl: Option<Duration>,
        wait: Duration,
    ) -> Result<u64> {
        self.ensure_open()?;
        Ok(self
            .shared
            .caches
            .open(name, mode, max_entries, ttl, wait)?)
    }

    pub fn cache_get(&self, id: u64, key: &[u8]) -> Result<Option<(u64, Bytes)>> {
        Ok(self.shared.caches.get(id, key)?)
    }

    pub fn cache_len(&self, id: u64) -> Result<usize> {
        Ok(self.shared.caches.len(id)?)
    }

    pub fn cache_keys(&self, id: u64, max: usize) -> Result<Vec<Bytes>> {
        Ok(self.shared.caches.keys(id, max)?)
    }

    pub fn cache_get_all(&self, id: u64, keys: &[Bytes]) -> Result<Vec<Option<(u64, Bytes)>>> {
        Ok(self.shared.caches.get_all(id, keys)?)
    }

    pub fn cache_evictions(&self, id: u64) -> Result<u64> {
        Ok(self.shared.caches.evictions(id)?)
    }

    pub fn cache_put_all(&self, id: u64, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        self.ensure_writable()?;
        Ok(self.shared.caches.put_all(id, entries)?)
    }

    pub fn cache_put(&self, id: u64, key: Bytes, value: Bytes) -> Result<()> {
        self.ensure_writable()?;
        Ok(self.shared.caches.put(id, key, value)?)
    }

    pub fn cache_remove(&self, id: u64, key: Bytes) -> Result<()> {
        self.ensure_writable()?;
        Ok(self.shared.caches.remove(id, key)?)
    }

    pub fn cache_clear(&self, id: u64) -> Result<()> {
        self.ensure_writable()?;
        Ok(self.shared.caches.clear(id)?)
    }

    /// What the Java near caches must drop; None once the node is closed.
    pub fn cache_invalidations(&self, timeout: Duration, max: usize) -> Option<Vec<Invalidation>> {
        self.shared.caches.invalidations(timeout, max)
    }

    fn ensure_writable(&self) -> Result<()> {
        self.ensure_open()?;
        match self.consensus.panic.reason() {
            Some(reason) => Err(ClusterError::Panicked(format!(
                "cache writes are refused: this node panicked ({reason})"
            ))),
            None => Ok(()),
        }
    }
}
