//! Accepts streams from peers: handshake first, then one frame in, at most one frame out, for
//! as long as the peer keeps the stream open. A peer that fails the handshake or sends a bad
//! frame loses its connection; the node goes on and the log says why.
//!
//! A stream on which the handler answers a frame at once (`FrameHandler::answer_now`: a peer's
//! events) is read on a thread of its own from then on (`reader_thread`).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;

use super::{reader_thread, SecureStream, StreamError};
use crate::crypto::ClusterKeys;
use crate::error::{ClusterError, Result};
use crate::wire::{self, Frame};

/// Streams served at once; more wait in the kernel's backlog, so a flood cannot exhaust memory.
const MAX_CONNECTIONS: usize = 256;

/// The answer to one frame, computed asynchronously (consensus calls wait on Raft).
pub type Reply<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Option<Frame>> + Send + 'a>>;

pub trait FrameHandler: Send + Sync + 'static {
    /// Answers one frame from `peer` that `answer_now` left for later; `None` sends nothing
    /// back.
    fn handle(&self, peer: SocketAddr, frame: Frame) -> Reply<'_>;

    /// Answers a frame of a peer's steady traffic without waiting, on the thread that read it,
    /// or leaves it for `handle`. A stream on which a frame is answered now is taken to carry
    /// nothing else from then on: it moves to a thread of its own, which closes it on any other.
    fn answer_now(&self, _peer: SocketAddr, frame: Frame) -> Answer {
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
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let keys = keys.clone();
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            if let Err(e) = serve_one(tcp, &keys, &handler).await {
                log_closed(peer, &e);
            }
            drop(slot);
        });
    }
}

async fn serve_one(
    tcp: tokio::net::TcpStream,
    keys: &ClusterKeys,
    handler: &Arc<dyn FrameHandler>,
) -> std::result::Result<(), StreamError> {
    let mut stream = SecureStream::accept(tcp, keys).await?;
    loop {
        let bytes = match stream.recv().await {
            Ok(bytes) => bytes,
            Err(StreamError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        let frame = wire::decode_frame(&bytes).map_err(|e| StreamError::Refused(e.to_string()))?;
        let (reply, streamed) = match handler.answer_now(stream.peer(), frame) {
            Answer::Now(reply) => (reply, true),
            Answer::Later(frame) => (handler.handle(stream.peer(), frame).await, false),
        };
        if let Some(reply) = reply {
            stream.send(&encode_reply(&reply)?).await?;
        }
        if streamed {
            return reader_thread::serve(stream, Arc::clone(handler)).await;
        }
    }
}

pub(super) fn encode_reply(reply: &Frame) -> std::result::Result<Vec<u8>, StreamError> {
    wire::encode(reply).map_err(|_| StreamError::Garbled("cannot encode a reply"))
}

fn log_closed(peer: SocketAddr, error: &StreamError) {
    match error {
        StreamError::Io(_) | StreamError::Timeout => {
            tracing::debug!(%peer, %error, "stream closed")
        }
        _ => tracing::warn!(%peer, %error, "refused a connection"),
    }
}
