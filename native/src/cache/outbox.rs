//! Shipping this node's cache writes: a bounded queue per peer and `IN_FLIGHT` sender tasks
//! per peer, each on its own stream, so batches are pipelined. Writes merge by version, so
//! batches may arrive in any order and twice; a failed batch simply goes back in the queue.
//!
//! A writer never waits: past its queue's bound, a peer's queue is dropped and the peer is
//! marked for a resync, and its next batches are a snapshot of every cache (`Stores::snapshot`)
//! before the writes made since. A peer that comes back after it was forgotten is resynced
//! the same way, since it missed what was written meanwhile.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::records::{weight, RecordSet};
use super::registry::Stores;
use super::store::Record;
use super::CacheBatch;
use crate::crypto::ClusterKeys;
use crate::membership::{peers, Snapshot, View};
use crate::transport::{Faults, Link};
use crate::wire::{Body, Frame};

/// A peer's queue bound; past it the peer is resynced instead.
const MAX_QUEUED_RECORDS: usize = 100_000;
const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
const MAX_BATCH_RECORDS: usize = 4096;
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
const IN_FLIGHT: usize = 2;
const CALL_TTL: Duration = Duration::from_secs(3);
/// How long an unreachable peer keeps its queue (a brief partition costs no resync).
const DOWN_RETENTION: Duration = Duration::from_secs(30);

type Queued = (Arc<str>, Record);

struct Peer {
    addr: SocketAddr,
    /// A snapshot being sent after a resync: goes before `queue`.
    backlog: VecDeque<Queued>,
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    needs_resync: bool,
    wake: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
    down_since: Option<Instant>,
}

#[derive(Default)]
struct State {
    peers: HashMap<String, Peer>,
    /// Every peer name ever sent to: one that comes back after being forgotten is resynced.
    known: HashSet<String>,
    /// The membership snapshot the peers were last brought in line with.
    seen: Option<Arc<Snapshot>>,
    closed: bool,
}

pub struct Outbox {
    origin: String,
    stores: Arc<Stores>,
    view: View,
    keys: ClusterKeys,
    faults: Faults,
    runtime: Handle,
    state: Mutex<State>,
}

impl Outbox {
    /// Must be called on the node's runtime.
    pub fn start(
        origin: String,
        stores: Arc<Stores>,
        view: View,
        keys: ClusterKeys,
        faults: Faults,
    ) -> Arc<Outbox> {
        let outbox = Arc::new(Outbox {
            origin,
            stores,
            view,
            keys,
            faults,
            runtime: Handle::current(),
            state: Mutex::default(),
        });
        tokio::spawn(Arc::clone(&outbox).watch_members());
        outbox
    }

    /// Queues a write for every peer; never waits.
    pub fn send(self: &Arc<Self>, cache: &Arc<str>, record: Record) {
        let mut state = self.state.lock();
        let snapshot = self.view.snapshot();
        if !state
            .seen
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &snapshot))
        {
            // A member the watcher has not got round to yet must not miss this write.
            self.reconcile(&mut state, snapshot);
        }
        let bytes = weight(&record);
        for (name, peer) in state.peers.iter_mut() {
            if peer.needs_resync {
                continue;
            }
            peer.queue.push_back((Arc::clone(cache), record.clone()));
            peer.queued_bytes += bytes;
            if peer.queue.len() > MAX_QUEUED_RECORDS || peer.queued_bytes > MAX_QUEUED_BYTES {
                tracing::warn!(peer = %name, "cache: writes for this peer piled up past the queue bound; it will be resynced");
                peer.mark_for_resync();
            }
            peer.wake.notify_one();
        }
    }

    /// Makes sure `name` gets every write from now on: a joiner asking for a snapshot must
    /// not miss a write made between the snapshot and the moment this node's view shows it.
    pub fn include(self: &Arc<Self>, name: &str, addr: SocketAddr) {
        let mut state = self.state.lock();
        if !state.peers.contains_key(name) {
            let peer = self.new_peer(&mut state.known, name, addr);
            state.peers.insert(name.to_string(), peer);
        }
    }

    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        for (_, peer) in state.peers.drain() {
            peer.tasks.iter().for_each(JoinHandle::abort);
        }
    }

    async fn watch_members(self: Arc<Self>) {
        peers::follow(&self.view, |snapshot| {
            let mut state = self.state.lock();
            self.reconcile(&mut state, snapshot);
            !state.closed
        })
        .await
    }

    fn reconcile(self: &Arc<Self>, state: &mut State, snapshot: Arc<Snapshot>) {
        if state.closed {
            return;
        }
        let State { peers, known, .. } = state;
        peers::reconcile(
            peers,
            &snapshot,
            DOWN_RETENTION,
            |name, addr| self.new_peer(known, name, addr),
            "cache: peer gone for good; it will be resynced if it comes back",
        );
        state.seen = Some(snapshot);
    }

    fn new_peer(
        self: &Arc<Self>,
        known: &mut HashSet<String>,
        name: &str,
        addr: SocketAddr,
    ) -> Peer {
        let wake = Arc::new(Notify::new());
        let tasks = (0..IN_FLIGHT)
            .map(|_| {
                self.runtime
                    .spawn(Arc::clone(self).send_to(name.to_string(), Arc::clone(&wake)))
            })
            .collect();
        Peer {
            addr,
            backlog: VecDeque::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            needs_resync: !known.insert(name.to_string()),
            wake,
            tasks,
            down_since: None,
        }
    }

    /// The next batch for `name`, taken out of its queues; None once the peer is gone.
    fn next_batch(&self, name: &str) -> Option<(SocketAddr, Vec<Queued>)> {
        let resync = {
            let mut state = self.state.lock();
            let peer = state.peers.get_mut(name)?;
            std::mem::replace(&mut peer.needs_resync, false)
        };
        if resync {
            // Taken after the flag is cleared, so a write either is in the snapshot or queued.
            let snapshot = self.stores.snapshot(true);
            let mut state = self.state.lock();
            let peer = state.peers.get_mut(name)?;
            tracing::info!(peer = %name, records = snapshot.len(), "cache: resyncing a peer");
            peer.backlog = snapshot.into();
        }
        let mut state = self.state.lock();
        let peer = state.peers.get_mut(name)?;
        let mut batch = Vec::new();
        let mut bytes = 0;
        while batch.len() < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES {
            let next = match peer.backlog.pop_front() {
                Some(item) => item,
                None => match peer.queue.pop_front() {
                    Some(item) => {
                        peer.queued_bytes -= weight(&item.1);
                        item
                    }
                    None => break,
                },
            };
            bytes += weight(&next.1);
            batch.push(next);
        }
        if !peer.queue.is_empty() || !peer.backlog.is_empty() {
            // Another sender may take the rest while this batch is on its way.
            peer.wake.notify_one();
        }
        Some((peer.addr, batch))
    }

    /// A batch that did not get through goes back in front of the queue.
    fn give_back(&self, name: &str, batch: Vec<Queued>) {
        let mut state = self.state.lock();
        let Some(peer) = state.peers.get_mut(name) else {
            return;
        };
        if peer.needs_resync {
            return;
        }
        for item in batch.into_iter().rev() {
            peer.queued_bytes += weight(&item.1);
            peer.queue.push_front(item);
        }
        if peer.queue.len() > MAX_QUEUED_RECORDS || peer.queued_bytes > MAX_QUEUED_BYTES {
            peer.mark_for_resync();
        }
    }

    async fn send_to(self: Arc<Self>, name: String, wake: Arc<Notify>) {
        let mut link = Link::new(self.keys.clone(), self.faults.clone());
        loop {
            let Some((addr, batch)) = self.next_batch(&name) else {
                return;
            };
            if batch.is_empty() {
                wake.notified().await;
                continue;
            }
            let frame = Frame::new(Body::CacheWrites(CacheBatch {
                origin: self.origin.clone(),
                set: RecordSet::new(batch.iter().cloned()),
            }));
            match link.call(addr, &frame, CALL_TTL).await {
                Ok(Frame {
                    body: Body::CacheWritesAck,
                    ..
                }) => link.succeeded(),
                answer => {
                    self.give_back(&name, batch);
                    link.failed(&name, "cache", answer).await;
                }
            }
        }
    }
}

impl peers::Peer for Peer {
    fn set_addr(&mut self, addr: SocketAddr) {
        self.addr = addr;
    }

    fn down_since(&mut self) -> &mut Option<Instant> {
        &mut self.down_since
    }

    fn stop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl Peer {
    fn mark_for_resync(&mut self) {
        self.needs_resync = true;
        self.queue.clear();
        self.backlog.clear();
        self.queued_bytes = 0;
        self.wake.notify_one();
    }
}
