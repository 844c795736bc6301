//! The sending side: a bounded retransmission buffer of this node's messages, and one sender
//! task per peer that keeps a stream open to it and ships batches from what the peer has
//! acknowledged on.
//!
//! A publisher never waits on the network. When a peer's stream has been quiet for a moment, the
//! publishing thread writes the new batch to it itself, as far as the socket takes it without
//! blocking: the message leaves at once instead of after a wake-up of the sender task (on two
//! cores such hand-offs are a large part of a message's latency). Otherwise the sender task
//! ships what accumulated; a batch of a burst (`BURST` messages or more) asks for an
//! acknowledgement and nothing more leaves before it, so that a burst travels in few large
//! batches (and publishers do not write through meanwhile). Other batches do not ask, except
//! once `ACK_EVERY` messages await an answer: an answer to each would cost both nodes a wake-up.
//! A message for a topic the peer has no subscriber for (as its last acknowledgement said) is
//! not written through: it waits up to `DEFER` for a message the peer wants, or for the sender
//! task, and travels in a batch. It is still sent, since a subscription may be on its way.
//! A peer's backlog is the part of the buffer past its acknowledgement;
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

use super::{Event, EventBatch, EventsAck, Interest};
use crate::crypto::ClusterKeys;
use crate::membership::{peers, Snapshot, View};
use crate::transport::{Backoff, Faults, SecureStream, StreamError, StreamReader, StreamWriter};
use crate::wire::{self, Body, Frame};

/// The retransmission buffer's bounds: past either, the oldest messages are dropped.
const MAX_BUFFERED_EVENTS: usize = 200_000;
const MAX_BUFFERED_BYTES: usize = 128 * 1024 * 1024;
/// One batch's bounds: well inside a frame (wire::MAX_FRAME_LEN) and a short write.
const MAX_BATCH_EVENTS: usize = 4096;
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// How long an acknowledgement may take before the stream is reopened and resent.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// Batches written through ask for an acknowledgement once this many messages await one.
const ACK_EVERY: u64 = 256;
/// A sender task's batch this long is a burst: it asks for an acknowledgement, and nothing more
/// leaves until the answer, so that the rest of the burst gathers into the next batch.
const BURST: u64 = 16;
/// Messages left unacknowledged by batches written through are asked about after this quiet.
const ACK_IDLE: Duration = Duration::from_millis(10);
/// A publisher writes through only to a stream that has been quiet this long; closer messages
/// are left to the sender task, which batches them.
const WRITE_GAP: Duration = Duration::from_micros(50);
/// How long messages for topics a peer has no subscriber for may wait to travel together.
const DEFER: Duration = Duration::from_millis(10);
const DOWN_RETENTION: Duration = Duration::from_secs(30);

type SharedWriter = Arc<tokio::sync::Mutex<StreamWriter>>;

struct Peer {
    addr: SocketAddr,
    acked: u64,
    /// The last message written to the open stream.
    sent: u64,
    /// When the stream was last written to.
    written_at: Option<Instant>,
    /// The acknowledgement asked for and not yet received: up to which message, asked when.
    asked: Option<(u64, Instant)>,
    /// What the peer has subscribers for, from its acknowledgements; `None` until one says.
    interest: Option<Arc<Interest>>,
    /// Until when the messages not yet written may wait: all of them are for topics the peer
    /// has no subscriber for. `None`: they are due now (or there are none).
    linger: Option<Instant>,
    /// The open stream's sending half; `None` while the sender task (re)connects.
    writer: Option<SharedWriter>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
    down_since: Option<Instant>,
}

/// What a peer's sender task does next.
enum Next {
    /// Write this frame (a batch, or an empty one that asks for an acknowledgement).
    Send(Vec<u8>),
    /// Wait for a wake-up until then, when the acknowledgement asked for is overdue (`true`)
    /// or there may be something to do (`false`).
    Wait(Instant, bool),
    /// The peer is gone.
    Stop,
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
    /// order), and writes it through to the peers whose streams are quiet.
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
        let State { buffer, peers, .. } = &mut *state;
        for (name, peer) in peers.iter_mut() {
            self.write_through(buffer, name, peer);
        }
    }

    /// Writes the peer's next batch from the publishing thread if its stream is open, free and
    /// quiet and the peer wants the new message; else leaves it to the sender task.
    fn write_through(&self, buffer: &VecDeque<Event>, name: &str, peer: &mut Peer) {
        let Some(writer) = peer.writer.clone() else {
            // The sender task is connecting; it sends the backlog once connected.
            return;
        };
        let Some(event) = buffer.back() else {
            return;
        };
        let now = Instant::now();
        if !peer.wants(&event.topic) {
            // Only the first message of a lingering backlog sets the task's deadline; one
            // behind messages already due goes with them.
            if peer.linger.is_none() && peer.sent + 1 == event.seq {
                peer.linger = Some(now + DEFER);
                peer.wake.notify_one();
            }
            return;
        }
        peer.linger = None;
        // Not while the task's batch awaits its acknowledgement: in a burst the task batches.
        let quiet = peer.asked.is_none() && peer.written_at.is_none_or(|at| now >= at + WRITE_GAP);
        // Injected faults (delay, loss) apply on the sender task's path only.
        let faults = !self.faults.delay().is_zero() || self.faults.is_blocked(peer.addr);
        // The writer's lock is held from the claim to the write, here and in the sender task,
        // so that batches reach the stream in the order they were claimed.
        let mut writer = match writer.try_lock() {
            Ok(writer) if quiet && !faults => writer,
            _ => {
                peer.wake.notify_one();
                return;
            }
        };
        // The task sleeps while everything written is acknowledged: the first message it has
        // not seen wakes it, so that it asks after `ACK_IDLE` (the answer trims the buffer and
        // brings the peer's topics) instead of at its next timeout.
        let unseen = peer.sent <= peer.acked;
        let Some(bytes) = self.claim(buffer, name, peer, |peer, last| {
            last >= peer.acked + ACK_EVERY
        }) else {
            return;
        };
        // Half written, or the stream broke: the task flushes or reconnects.
        if !matches!(writer.try_send(&bytes), Ok(true)) || unseen {
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
                    sent: acked,
                    written_at: None,
                    asked: None,
                    interest: None,
                    linger: None,
                    writer: None,
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

    /// The peer's next batch, from what was last written to it.
    fn batch_for(buffer: &VecDeque<Event>, name: &str, peer: &mut Peer) -> Vec<Event> {
        let first = buffer.front().map(|e| e.seq);
        if let Some(first) = first {
            if peer.sent + 1 < first {
                tracing::warn!(
                    peer = %name,
                    lost = first - peer.sent - 1,
                    "events: the retransmission buffer overflowed before this peer received its backlog"
                );
                peer.acked = peer.acked.max(first - 1);
                peer.sent = first - 1;
            }
        }
        let start = first.map_or(0, |f| (peer.sent + 1 - f) as usize);
        let mut bytes = 0;
        buffer
            .iter()
            .skip(start)
            .take(MAX_BATCH_EVENTS)
            .take_while(|e| {
                bytes += e.payload.len() + e.topic.len();
                bytes <= MAX_BATCH_BYTES || bytes == e.payload.len() + e.topic.len()
            })
            .cloned()
            .collect()
    }

    fn encode(&self, peer: &Peer, events: Vec<Event>, ack: bool) -> Option<Vec<u8>> {
        let frame = Frame::new(Body::Events(EventBatch {
            publisher: self.publisher,
            origin: self.origin.clone(),
            events,
            ack,
            interest: peer.interest.as_ref().map_or(0, |i| i.version),
        }));
        match wire::encode(&frame) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                tracing::error!(error = %e, "events: cannot encode a batch");
                None
            }
        }
    }

    /// Takes the peer's next batch as written: encoded, asking for an acknowledgement if
    /// `ask(peer, last message)` says so. `None` when there is nothing to send.
    /// The caller holds the peer's writer and writes the batch next.
    fn claim(
        &self,
        buffer: &VecDeque<Event>,
        name: &str,
        peer: &mut Peer,
        ask: impl FnOnce(&Peer, u64) -> bool,
    ) -> Option<Vec<u8>> {
        let batch = Self::batch_for(buffer, name, peer);
        let last = batch.last()?.seq;
        let ask = ask(peer, last);
        let bytes = self.encode(peer, batch, ask)?;
        let now = Instant::now();
        peer.sent = last;
        peer.linger = None;
        peer.written_at = Some(now);
        if ask {
            peer.asked = Some((last, now));
        }
        Some(bytes)
    }

    /// The sender task's next step: the backlog, unless it may linger or an answer is awaited;
    /// an empty batch that asks when messages have stayed unacknowledged `ACK_IDLE`.
    fn next(&self, name: &str) -> Next {
        let mut state = self.state.lock();
        let now = Instant::now();
        let State { buffer, peers, .. } = &mut *state;
        let Some(peer) = peers.get_mut(name) else {
            return Next::Stop;
        };
        if let Some((_, at)) = peer.asked {
            return Next::Wait(at + ACK_TIMEOUT, true);
        }
        if let Some(until) = peer.linger.filter(|until| now < *until) {
            return Next::Wait(until, false);
        }
        if let Some(bytes) = self.claim(buffer, name, peer, |peer, last| {
            last >= peer.sent + BURST || last >= peer.acked + ACK_EVERY
        }) {
            return Next::Send(bytes);
        }
        if peer.sent <= peer.acked {
            return Next::Wait(now + ACK_TIMEOUT, false);
        }
        let quiet_since = peer.written_at.unwrap_or(now);
        if now < quiet_since + ACK_IDLE {
            return Next::Wait(quiet_since + ACK_IDLE, false);
        }
        match self.ask(peer, now) {
            Some(bytes) => Next::Send(bytes),
            None => Next::Wait(now + ACK_TIMEOUT, false),
        }
    }

    /// An empty batch that asks the peer to acknowledge everything sent so far.
    fn ask(&self, peer: &mut Peer, now: Instant) -> Option<Vec<u8>> {
        peer.asked = Some((peer.sent, now));
        peer.written_at = Some(now);
        self.encode(peer, Vec::new(), true)
    }

    /// The first frame of a new stream: the peer's listener closes a connection that sends
    /// none within a few seconds, and its answer brings the peer's interest before any batch.
    fn greeting(&self, name: &str) -> Option<Vec<u8>> {
        let mut state = self.state.lock();
        let peer = state.peers.get_mut(name)?;
        self.ask(peer, Instant::now())
    }

    fn acked(&self, name: &str, ack: EventsAck) {
        let mut state = self.state.lock();
        let top = state.next_seq - 1;
        if let Some(peer) = state.peers.get_mut(name) {
            if let Some(mut interest) = ack.interest {
                // Sorted here, where `wants` searches it.
                if let Some(topics) = interest.topics.as_mut() {
                    topics.sort_unstable();
                }
                peer.interest = Some(Arc::new(interest));
            }
            peer.acked = peer.acked.max(ack.last.min(top));
            peer.sent = peer.sent.max(peer.acked);
            if peer.asked.is_some_and(|(upto, _)| peer.acked >= upto) {
                peer.asked = None;
            }
        }
        trim(&mut state);
    }

    /// Publishes the open stream's writer for write-through (`None`: closed); returns the
    /// peer's address and acknowledgement, or `None` once the peer is gone.
    fn connected(&self, name: &str, writer: Option<SharedWriter>) -> Option<(SocketAddr, u64)> {
        let mut state = self.state.lock();
        let peer = state.peers.get_mut(name)?;
        // What was written to a stream now closed is sent again from the acknowledgement.
        peer.sent = peer.acked;
        peer.written_at = None;
        peer.asked = None;
        peer.linger = None;
        peer.writer = writer;
        Some((peer.addr, peer.acked))
    }

    /// Keeps a stream open to the peer and ships its batches, until the peer is gone.
    async fn send_to(self: Arc<Self>, name: String, wake: Arc<Notify>) {
        let mut backoff = Backoff::default();
        while let Some((addr, acked)) = self.connected(&name, None) {
            if let Err(e) = Arc::clone(&self).stream_to(&name, addr, &wake).await {
                tracing::debug!(peer = %name, error = %e, "events: stream closed, will reconnect and resend");
                match self.connected(&name, None) {
                    None => return,
                    Some((_, now)) if now > acked => backoff.reset(),
                    Some(_) => {}
                }
                backoff.wait().await;
            }
        }
    }

    /// One stream's life: batches out (as `next` says), acknowledgements in on a task of their
    /// own. Ends with an error when the stream fails or an acknowledgement is overdue.
    async fn stream_to(
        self: Arc<Self>,
        name: &str,
        addr: SocketAddr,
        wake: &Arc<Notify>,
    ) -> Result<(), StreamError> {
        if self.faults.is_blocked(addr) {
            return Err(StreamError::Connect(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "link cut by fault injection",
            )));
        }
        let (reader, writer) = SecureStream::connect(addr, &self.keys).await?.split();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        let mut acks = AbortOnDrop(tokio::spawn(Arc::clone(&self).read_acks(
            name.to_string(),
            reader,
            Arc::clone(wake),
        )));
        if self.connected(name, Some(Arc::clone(&writer))).is_none() {
            return Ok(());
        }
        if let Some(greeting) = self.greeting(name) {
            writer.lock().await.send(&greeting).await?;
        }
        loop {
            let mut stream = writer.lock().await;
            // A publisher may have left a batch half written.
            stream.flush().await?;
            let (until, overdue) = match self.next(name) {
                Next::Stop => return Ok(()),
                Next::Send(bytes) => {
                    let delay = self.faults.delay();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    if self.faults.is_blocked(addr) {
                        return Err(StreamError::Io(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "batch lost by fault injection",
                        )));
                    }
                    stream.send(&bytes).await?;
                    continue;
                }
                Next::Wait(until, overdue) => (until, overdue),
            };
            drop(stream);
            // Publishers write through without waking this task: a wait also ends at `until`
            // to see whether an acknowledgement is overdue or should be asked for.
            tokio::select! {
                _ = wake.notified() => {}
                ended = &mut acks.0 => {
                    return Err(ended.unwrap_or(StreamError::Garbled("the acknowledgement reader stopped")));
                }
                _ = tokio::time::sleep_until(until) => {
                    if overdue {
                        return Err(StreamError::Timeout);
                    }
                }
            }
        }
    }

    /// Reads the peer's acknowledgements, one per batch and in order, and wakes the sender;
    /// returns why the stream ended.
    async fn read_acks(
        self: Arc<Self>,
        name: String,
        mut reader: StreamReader,
        wake: Arc<Notify>,
    ) -> StreamError {
        loop {
            let frame = match reader.recv().await {
                Ok(bytes) => wire::decode_frame(&bytes),
                Err(e) => return e,
            };
            match frame {
                Err(e) => return StreamError::Refused(e.to_string()),
                Ok(Frame {
                    body: Body::EventsAck(ack),
                    ..
                }) if ack.publisher == self.publisher => {
                    self.acked(&name, ack);
                    wake.notify_one();
                }
                Ok(other) => {
                    tracing::warn!(peer = %name, answer = other.body.kind(), "events: unexpected answer to a batch");
                    return StreamError::Garbled("unexpected answer to a batch");
                }
            }
        }
    }
}

/// A task that ends with its owner.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
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

impl Peer {
    /// Whether the peer has a subscriber for `topic`, as far as this node knows.
    fn wants(&self, topic: &str) -> bool {
        match self.interest.as_ref().and_then(|i| i.topics.as_ref()) {
            Some(topics) => topics.binary_search_by(|t| t.as_str().cmp(topic)).is_ok(),
            None => true,
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
        self.task.abort();
    }
}
