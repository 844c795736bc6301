//! A request channel to one peer: an encrypted stream opened on first use, kept open across
//! requests and reopened after a failure, or after it was left idle long enough that the peer
//! may be closing it. One request at a time per channel.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Faults, SecureStream, StreamError};
use crate::crypto::ClusterKeys;
use crate::wire::{self, Frame};

/// A stream idle longer than this is not reused: the peer closes one idle for
/// `listener::IDLE_TIMEOUT`, and a request sent as it does would fail for nothing.
const REUSE_WITHIN: Duration = Duration::from_secs(30);

pub struct Channel {
    addr: SocketAddr,
    keys: ClusterKeys,
    faults: Faults,
    /// The stream and when its last request ended.
    stream: Option<(SecureStream, Instant)>,
}

impl Channel {
    pub fn new(addr: SocketAddr, keys: ClusterKeys, faults: Faults) -> Channel {
        Channel {
            addr,
            keys,
            faults,
            stream: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the stream is open: it is dropped on any failure.
    pub fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// Sends `frame` and waits for the reply, all within `ttl`. On any failure the stream is
    /// dropped, so that the next call starts on a fresh one.
    pub async fn call(&mut self, frame: &Frame, ttl: Duration) -> Result<Frame, StreamError> {
        let delay = self.faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.faults.is_blocked(self.addr) {
            self.stream = None;
            return Err(StreamError::Connect(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "link cut by fault injection",
            )));
        }
        let result = tokio::time::timeout(ttl, self.exchange(frame))
            .await
            .unwrap_or(Err(StreamError::Timeout));
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, frame: &Frame) -> Result<Frame, StreamError> {
        let bytes =
            wire::encode(frame).map_err(|_| StreamError::Garbled("cannot encode a frame"))?;
        let (stream, last_used) = match self.stream.take() {
            Some((stream, used)) if used.elapsed() < REUSE_WITHIN => {
                self.stream.insert((stream, used))
            }
            _ => self.stream.insert((
                SecureStream::connect(self.addr, &self.keys).await?,
                Instant::now(),
            )),
        };
        stream.send(&bytes).await?;
        let reply = stream.recv().await?;
        *last_used = Instant::now();
        wire::decode_frame(&reply).map_err(|e| StreamError::Refused(e.to_string()))
    }
}

/// How a sender task talks to one peer: a channel that follows the peer's address, and a backoff
/// between failed attempts.
pub struct Link {
    keys: ClusterKeys,
    faults: Faults,
    channel: Option<Channel>,
    backoff: Backoff,
}

/// The wait between failed attempts to reach a peer: 20 ms, doubling up to 1 s, back to 20 ms
/// after a success.
pub struct Backoff(Duration);

const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff(BACKOFF_MIN)
    }
}

impl Backoff {
    pub fn reset(&mut self) {
        self.0 = BACKOFF_MIN;
    }

    /// Waits, twice as long as the last time (up to the maximum).
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
}

impl Link {
    pub fn new(keys: ClusterKeys, faults: Faults) -> Link {
        Link {
            keys,
            faults,
            channel: None,
            backoff: Backoff::default(),
        }
    }

    /// `Channel::call` to `addr`, on a new channel if the peer moved.
    pub async fn call(
        &mut self,
        addr: SocketAddr,
        frame: &Frame,
        ttl: Duration,
    ) -> Result<Frame, StreamError> {
        let channel = match self.channel.as_mut() {
            Some(c) if c.addr() == addr => c,
            _ => self
                .channel
                .insert(Channel::new(addr, self.keys.clone(), self.faults.clone())),
        };
        channel.call(frame, ttl).await
    }

    /// The peer took what was sent: the next failure waits the shortest time again.
    pub fn succeeded(&mut self) {
        self.backoff.reset();
    }

    /// Logs why a batch (of `what`) did not get through to `peer`, then waits before the next
    /// attempt, twice as long as the last time, up to the maximum.
    pub async fn failed(&mut self, peer: &str, what: &str, answer: Result<Frame, StreamError>) {
        match answer {
            Ok(other) => {
                tracing::warn!(
                    peer,
                    answer = other.body.kind(),
                    "{what}: unexpected answer to a batch"
                )
            }
            Err(e) => {
                tracing::debug!(peer, error = %e, "{what}: batch not delivered, will resend")
            }
        }
        self.backoff.wait().await;
    }
}
