//! Catching up: a node that joins pulls the replicated entries from every member that has
//! caught up itself, page by page, while the members' writes reach it as usual; since writes
//! merge by version, the order in which pages and writes land does not matter. Until the pull
//! is done, `Caches::open` waits, so the node serves no reads from a half-filled cache.
//!
//! Each member serves a pull from a copy of its records taken at the first page (entries are
//! reference-counted bytes, so the copy is cheap) and first adds the joiner to its outbox, so
//! that every write is either in the copy or shipped to the joiner.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::records::{weight, RecordSet};
use super::store::Record;
use crate::crypto::ClusterKeys;
use crate::membership::NodeIdentity;
use crate::transport::{Channel, Faults};
use crate::wire::{Body, Frame};

const PAGE_RECORDS: usize = 8192;
const PAGE_BYTES: usize = 4 * 1024 * 1024;
const CALL_TTL: Duration = Duration::from_secs(10);
/// A pull not continued for this long is abandoned and its copy freed.
const SESSION_IDLE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRequest {
    pub requester: String,
    pub addr: SocketAddr,
    /// Chosen by the requester, one per pull.
    pub session: u64,
    /// Index of the first record wanted.
    pub from: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncPage {
    /// False while the answering node is catching up itself: ask another.
    pub ready: bool,
    pub set: RecordSet,
    /// Where the next page starts; None after the last.
    pub next: Option<u64>,
}

type Copy = Arc<Vec<(Arc<str>, Record)>>;

#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<u64, (Instant, Copy)>>,
}

impl Sessions {
    /// The page of `request`, cut from the copy `take` makes at the session's first page.
    pub fn page(&self, request: &SyncRequest, take: impl FnOnce() -> Copy) -> SyncPage {
        let now = Instant::now();
        let copy = {
            let mut open = self.open.lock();
            open.retain(|_, (used, _)| now.duration_since(*used) < SESSION_IDLE);
            match open.get_mut(&request.session) {
                Some((used, copy)) => {
                    *used = now;
                    Arc::clone(copy)
                }
                None => {
                    let copy = take();
                    open.insert(request.session, (now, Arc::clone(&copy)));
                    copy
                }
            }
        };
        let start = usize::try_from(request.from)
            .unwrap_or(usize::MAX)
            .min(copy.len());
        let mut bytes = 0;
        let end = copy[start..]
            .iter()
            .take(PAGE_RECORDS)
            .take_while(|(_, r)| {
                bytes += weight(r);
                bytes <= PAGE_BYTES
            })
            .count()
            .max(usize::from(start < copy.len()))
            + start;
        let next = (end < copy.len()).then_some(end as u64);
        if next.is_none() {
            self.open.lock().remove(&request.session);
        }
        SyncPage {
            ready: true,
            set: RecordSet::new(copy[start..end].iter().cloned()),
            next,
        }
    }
}

/// Pulls every page from one member into `apply`; false if it is catching up itself.
pub async fn pull_from(
    local: &NodeIdentity,
    peer: &NodeIdentity,
    keys: &ClusterKeys,
    faults: &Faults,
    mut apply: impl FnMut(RecordSet),
) -> Result<bool, String> {
    let mut channel = Channel::new(peer.addr, keys.clone(), faults.clone());
    let session = rand::random();
    let mut from = 0;
    loop {
        let request = Frame::new(Body::CacheSync(SyncRequest {
            requester: local.name.clone(),
            addr: local.addr,
            session,
            from,
        }));
        let page = match channel.call(&request, CALL_TTL).await {
            Ok(Frame {
                body: Body::CacheSyncPage(page),
                ..
            }) => page,
            Ok(other) => return Err(format!("unexpected answer {:?}", other.body)),
            Err(e) => return Err(e.to_string()),
        };
        if !page.ready {
            return Ok(false);
        }
        apply(page.set);
        match page.next {
            Some(next) => from = next,
            None => return Ok(true),
        }
    }
}
