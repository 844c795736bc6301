//! The sending side: a bounded retransmission buffer of this node's messages, and one sender
//! task per peer that ships batches from the peer's last acknowledged sequence number on.
//!
//! Publishing only appends to the buffer and wakes the senders, so a slow or dead peer never
//! holds up the publisher. A peer's backlog is the part of the buffer past its acknowledgement;
//! when the buffer is full its oldest messages go, and a peer that had not received them is
//! told by the gap (and logs it). A peer that turns unreachable keeps its place for
//! `DOWN_RETENTION`, so that a brief partition or a foca refutation under a new incarnation
//! costs nothing; after that it is forgotten, and when it comes back it gets what is published
//! from then on, like any joiner.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Event, EventBatch};
use crate::crypto::ClusterKeys;
use crate::membership::{peers, Snapshot, View};
use crate::transport::{Faults, Link};
use crate::wire::{Body, Frame};

/// The retransmission buffer's bounds: past either, the oldest messages are dropped.
const MAX_BUFFERED_EVENTS: usize = 200_000;
const MAX_BUFFERED_BYTES: usize = 128 * 1024 * 1024;
/// One batch's bounds: well inside a frame (wire::MAX_FRAME_LEN) and a short write.
const MAX_BATCH_EVENTS: usize = 4096;
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// How long a batch may take to be acknowledged before the stream is reopened and resent.
const CALL_TTL: Duration = Duration::from_secs(3);
const DOWN_RETENTION: Duration = Duration::from_secs(30);

struct Peer {
    addr: SocketAddr,
    acked: u64,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
    down_since: Option<Instant>,
}

struct State {
    next_seq: u64,
    buffer: VecDeque<Event>,
    buffered_bytes: usize,
    /// By node name: a node that renews its incarnation keeps its place.
    peers: HashMap<String, Peer>,
    seen: Option<Arc<Snapshot>>,
    closed: bool,
}

pub struct Outbox {
    publisher: u64,
    origin: String,
    view: View,
    keys: ClusterKeys,
    faults: Faults,
    runtime: Handle,
    state: Mutex<State>,
}

impl Outbox {
    /// Must be called on the node's runtime.
    pub fn start(
        publisher: u64,
        origin: String,
        view: View,
        keys: ClusterKeys,
        faults: Faults,
    ) -> Arc<Outbox> {
        let outbox = Arc::new(Outbox {
            publisher,
            origin,
            view,
            keys,
            faults,
            runtime: Handle::current(),
            state: Mutex::new(State {
                next_seq: 1,
                buffer: VecDeque::new(),
                buffered_bytes: 0,
                peers: HashMap::new(),
                seen: None,
                closed: false,
            }),
        });
        tokio::spawn(Arc::clone(&outbox).watch_members());
        outbox
    }

    pub fn publisher(&self) -> u64 {
        self.publisher
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends a message, hands it to `local` under the lock (so local order is sequence
    /// order), and wakes every peer's sender.
    pub fn publish(self: &Arc<Self>, topic: &str, payload: Bytes, local: impl FnOnce(&Event)) {
        let mut state = self.state.lock();
        // Peers the publisher has not yet seen join get this message too: the view is checked
        // here, not only when the watcher task gets round to it.
        let snapshot = self.view.snapshot();
        if !state
            .seen
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &snapshot))
        {
            self.reconcile(&mut state, snapshot);
        }
        let event = Event {
            seq: state.next_seq,
            topic: topic.to_string(),
            payload,
        };
        state.next_seq += 1;
        local(&event);
        if state.peers.is_empty() {
            return;
        }
        state.buffered_bytes += event.payload.len() + event.topic.len();
        state.buffer.push_back(event);
        while state.buffer.len() > MAX_BUFFERED_EVENTS || state.buffered_bytes > MAX_BUFFERED_BYTES
        {
            pop_front(&mut state);
        }
        for peer in state.peers.values() {
            peer.wake.notify_one();
        }
    }

    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        for (_, peer) in state.peers.drain() {
            peer.task.abort();
        }
        state.buffer.clear();
    }

    async fn watch_members(self: Arc<Self>) {
        peers::follow(&self.view, |snapshot| {
            let mut state = self.state.lock();
            self.reconcile(&mut state, snapshot);
            !state.closed
        })
        .await
    }

    /// Brings the peers in line with the membership view: a new member starts at the next
    /// message; a member gone stays for `DOWN_RETENTION`, then is forgotten.
    fn reconcile(self: &Arc<Self>, state: &mut State, snapshot: Arc<Snapshot>) {
        if state.closed {
            return;
        }
        let acked = state.next_seq - 1;
        peers::reconcile(
            &mut state.peers,
            &snapshot,
            DOWN_RETENTION,
            |name, addr| {
                let wake = Arc::new(Notify::new());
                let task = self
                    .runtime
                    .spawn(Arc::clone(self).send_to(name.to_string(), Arc::clone(&wake)));
                Peer {
                    addr,
                    acked,
                    wake,
                    task,
                    down_since: None,
                }
            },
            "events: peer gone for good, its backlog is dropped",
        );
        trim(state);
        state.seen = Some(snapshot);
    }

    /// The next batch for `name`, from its acknowledgement on; `None` once the peer is gone.
    fn next_batch(&self, name: &str) -> Option<(SocketAddr, Vec<Event>)> {
        let mut state = self.state.lock();
        let first = state.buffer.front().map(|e| e.seq);
        let peer = state.peers.get_mut(name)?;
        if let Some(first) = first {
            if peer.acked + 1 < first {
                tracing::warn!(
                    peer = %name,
                    lost = first - peer.acked - 1,
                    "events: the retransmission buffer overflowed before this peer received its backlog"
                );
                peer.acked = first - 1;
            }
        }
        let addr = peer.addr;
        let start = first.map_or(0, |f| (peer.acked + 1 - f) as usize);
        let mut bytes = 0;
        let batch: Vec<Event> = state
            .buffer
            .iter()
            .skip(start)
            .take(MAX_BATCH_EVENTS)
            .take_while(|e| {
                bytes += e.payload.len() + e.topic.len();
                bytes <= MAX_BATCH_BYTES || bytes == e.payload.len() + e.topic.len()
            })
            .cloned()
            .collect();
        Some((addr, batch))
    }

    fn acked(&self, name: &str, last: u64) {
        let mut state = self.state.lock();
        let top = state.next_seq - 1;
        if let Some(peer) = state.peers.get_mut(name) {
            peer.acked = peer.acked.max(last.min(top));
        }
        trim(&mut state);
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
            let frame = Frame::new(Body::Events(EventBatch {
                publisher: self.publisher,
                origin: self.origin.clone(),
                events: batch,
            }));
            match link.call(addr, &frame, CALL_TTL).await {
                Ok(Frame {
                    body: Body::EventsAck(ack),
                    ..
                }) if ack.publisher == self.publisher => {
                    self.acked(&name, ack.last);
                    link.succeeded();
                }
                answer => {
                    link.failed(&name, "events", answer).await;
                }
            }
        }
    }
}

/// Drops what every peer has acknowledged.
fn trim(state: &mut State) {
    let floor = state
        .peers
        .values()
        .map(|p| p.acked)
        .min()
        .unwrap_or(u64::MAX);
    while state.buffer.front().is_some_and(|e| e.seq <= floor) {
        pop_front(state);
    }
}

fn pop_front(state: &mut State) {
    if let Some(e) = state.buffer.pop_front() {
        state.buffered_bytes -= e.payload.len() + e.topic.len();
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
        self.task.abort();
    }
}
