//! Accepts streams from peers: handshake first, then one frame in, at most one frame out, for
//! as long as the peer keeps the stream open. A peer that fails the handshake or sends a bad
//! frame loses its connection; the node goes on and the log says why (once per source and
//! kind of refusal in a while: `Refusals`).
//!
//! A connection is *unproven* until its first frame is in and admitted by the handler (a member,
//! or a joiner's `Hello`): that must happen within `PROVE_WITHIN` of the accept, and a source
//! address may hold only `UNPROVEN_PER_SOURCE` unproven connections at once, so idle or
//! replayed handshakes from one address cannot crowd out a node that comes to join. A proven
//! connection takes one of `MAX_CONNECTIONS` slots and is closed after `IDLE_TIMEOUT` without a
//! frame.
//!
//! A stream on which the handler answers a frame at once (`FrameHandler::answer_now`: a peer's
//! events) is read on a thread of its own from then on (`reader_thread`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::refusals::Refusals;
use super::{reader_thread, SecureStream, StreamError};
use crate::crypto::ClusterKeys;
use crate::error::{ClusterError, Result};
use crate::wire::{self, Frame};

/// Proven streams served at once: each is a peer's channel or stream (tens per peer).
const MAX_CONNECTIONS: usize = 256;
/// Unproven connections one source address may hold at once: a node opens a few at a time.
const UNPROVEN_PER_SOURCE: usize = 32;
/// Unproven connections from all sources at once: far above one source's share, so that it
/// takes many addresses, not one, to fill it.
const UNPROVEN_TOTAL: usize = 1024;
/// From accept to the first admitted frame: a handshake and a frame take milliseconds on a LAN.
pub const PROVE_WITHIN: Duration = Duration::from_secs(5);
/// A proven stream without a frame for this long is closed. Initiators reuse a stream only
/// within `channel::REUSE_WITHIN`, well inside it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The answer to one frame, computed asynchronously (consensus calls wait on Raft).
pub type Reply<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Option<Frame>> + Send + 'a>>;

/// Who sent a frame: the address it came from and the node name it gave in the handshake.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    pub name: Arc<str>,
}

pub trait FrameHandler: Send + Sync + 'static {
    /// Whether `frame` from `peer` is taken at all; a stream that sends one that is not is
    /// closed. Asked before every frame, so a peer that stops being a member is cut off.
    fn admits(&self, peer: &Peer, frame: &Frame) -> bool;

    /// Answers one frame from `peer` that `answer_now` left for later; `None` sends nothing
    /// back.
    fn handle(&self, peer: Peer, frame: Frame) -> Reply<'_>;

    /// Answers a frame of a peer's steady traffic without waiting, on the thread that read it,
    /// or leaves it for `handle`. A stream on which a frame is answered now is taken to carry
    /// nothing else from then on: it moves to a thread of its own, which closes it on any other.
    fn answer_now(&self, _peer: &Peer, frame: Frame) -> Answer {
        Answer::Later(frame)
    }
}

/// How `FrameHandler::answer_now` deals with a frame.
pub enum Answer {
    /// Answered (`None`: nothing to send back).
    Now(Option<Frame>),
    /// To be answered by `FrameHandler::handle`.
    Later(Frame),
}

/// Binds TCP and UDP on one port, so a member's single address serves both. With port 0 the
/// kernel picks the TCP port, and UDP must then get the same number; it may be taken, so retry.
pub async fn bind_pair(addr: SocketAddr) -> Result<(TcpListener, UdpSocket)> {
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(|e| ClusterError::io(format!("cluster.bind: cannot listen on {addr}"), e))?;
        let bound = tcp
            .local_addr()
            .map_err(|e| ClusterError::io("cannot read the bound address", e))?;
        match UdpSocket::bind(bound).await {
            Ok(udp) => return Ok((tcp, udp)),
            Err(e) => last = Some((bound, e)),
        }
    }
    let (bound, e) = last.expect("at least one attempt ran");
    Err(ClusterError::io(
        format!("cluster.bind: cannot bind UDP on {bound}"),
        e,
    ))
}

pub async fn serve(listener: TcpListener, keys: ClusterKeys, handler: Arc<dyn FrameHandler>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let unproven = Arc::new(Unproven::default());
    let refusals = Arc::new(Refusals::default());
    loop {
        let (tcp, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(ticket) = Unproven::admit(&unproven, from.ip()) else {
            refusals.note(
                from.ip(),
                "connection refused",
                &"too many connections from this address have not shown they belong to the cluster",
            );
            continue;
        };
        let keys = keys.clone();
        let handler = Arc::clone(&handler);
        let slots = Arc::clone(&slots);
        let refusals = Arc::clone(&refusals);
        tokio::spawn(async move {
            if let Err(e) = serve_one(tcp, &keys, &handler, ticket, &slots).await {
                log_closed(&refusals, from, &e);
            }
        });
    }
}

async fn serve_one(
    tcp: tokio::net::TcpStream,
    keys: &ClusterKeys,
    handler: &Arc<dyn FrameHandler>,
    ticket: Ticket,
    slots: &Arc<Semaphore>,
) -> std::result::Result<(), StreamError> {
    let proven_by = Instant::now() + PROVE_WITHIN;
    let mut stream = SecureStream::accept(tcp, keys).await?;
    let peer = Peer {
        addr: stream.peer(),
        name: Arc::clone(stream.peer_name()),
    };
    let first = match next_frame(&mut stream, handler.as_ref(), &peer, proven_by)
        .await
        .map_err(|e| match e {
            StreamError::Idle => StreamError::Unproven,
            other => other,
        })? {
        Some(frame) => frame,
        None => return Ok(()),
    };
    drop(ticket);
    let Ok(_slot) = Arc::clone(slots).try_acquire_owned() else {
        return Err(StreamError::Refused(format!(
            "{MAX_CONNECTIONS} streams are open already"
        )));
    };
    let mut frame = first;
    loop {
        let (reply, streamed) = match handler.answer_now(&peer, frame) {
            Answer::Now(reply) => (reply, true),
            Answer::Later(frame) => (handler.handle(peer.clone(), frame).await, false),
        };
        if let Some(reply) = reply {
            stream.send(&encode_reply(&reply)?).await?;
        }
        if streamed {
            return reader_thread::serve(stream, Arc::clone(handler), peer).await;
        }
        frame = match next_frame(
            &mut stream,
            handler.as_ref(),
            &peer,
            Instant::now() + IDLE_TIMEOUT,
        )
        .await?
        {
            Some(frame) => frame,
            None => return Ok(()),
        };
    }
}

/// The next admitted frame, `None` if the peer closed the stream between frames; `Idle` if none
/// began by `deadline`; an error if the handler does not admit it.
async fn next_frame(
    stream: &mut SecureStream,
    handler: &dyn FrameHandler,
    peer: &Peer,
    deadline: Instant,
) -> std::result::Result<Option<Frame>, StreamError> {
    let bytes = match tokio::time::timeout_at(deadline, stream.recv()).await {
        Err(_) => return Err(StreamError::Idle),
        Ok(Ok(bytes)) => bytes,
        Ok(Err(StreamError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Ok(None)
        }
        Ok(Err(e)) => return Err(e),
    };
    admitted(handler, peer, &bytes).map(Some)
}

/// Decodes a frame and asks the handler whether it is taken from `peer`.
pub(super) fn admitted(
    handler: &dyn FrameHandler,
    peer: &Peer,
    bytes: &[u8],
) -> std::result::Result<Frame, StreamError> {
    let frame = wire::decode_frame(bytes).map_err(|e| StreamError::Refused(e.to_string()))?;
    if !handler.admits(peer, &frame) {
        return Err(StreamError::NotAMember(peer.name.to_string()));
    }
    Ok(frame)
}

pub(super) fn encode_reply(reply: &Frame) -> std::result::Result<Vec<u8>, StreamError> {
    wire::encode(reply).map_err(|_| StreamError::Garbled("cannot encode a reply"))
}

fn log_closed(refusals: &Refusals, from: SocketAddr, error: &StreamError) {
    match error {
        StreamError::Io(_) | StreamError::Idle => {
            tracing::debug!(peer = %from, %error, "stream closed")
        }
        StreamError::Timeout | StreamError::Unproven => {
            refusals.note(from.ip(), "connection closed", error)
        }
        _ => refusals.note(from.ip(), "connection refused", error),
    }
}

/// Unproven connections by source address.
#[derive(Default)]
struct Unproven {
    by_source: Mutex<(HashMap<IpAddr, usize>, usize)>,
}

/// One unproven connection's place; given back when dropped (proven, failed or timed out).
struct Ticket {
    unproven: Arc<Unproven>,
    source: IpAddr,
}

impl Unproven {
    fn admit(this: &Arc<Unproven>, source: IpAddr) -> Option<Ticket> {
        let mut guard = this.by_source.lock();
        let (by_source, total) = &mut *guard;
        let count = by_source.entry(source).or_default();
        if *count >= UNPROVEN_PER_SOURCE || *total >= UNPROVEN_TOTAL {
            return None;
        }
        *count += 1;
        *total += 1;
        Some(Ticket {
            unproven: Arc::clone(this),
            source,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut guard = self.unproven.by_source.lock();
        let (by_source, total) = &mut *guard;
        *total -= 1;
        if let Some(count) = by_source.get_mut(&self.source) {
            *count -= 1;
            if *count == 0 {
                by_source.remove(&self.source);
            }
        }
    }
}
