//! Request channels by peer address, shared by callers that come and go: Raft builds a client
//! for every leadership check, and a channel of its own would mean a new connection and
//! handshake each time (ten a second per peer with the lease renewal).
//!
//! A call its caller stops waiting for (openraft drops a check's last call once a quorum
//! answered) takes its channel with it, since the reply is still to come on the stream.
//! Running each call on a task of its own would keep the channel, but that hand-off cost the
//! lock benchmark's lock+unlock about 170 µs at p50 (289-321 -> 457-500 µs).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use parking_lot::Mutex;

use super::{Channel, Faults, StreamError};
use crate::crypto::ClusterKeys;
use crate::wire::Frame;

/// Idle channels kept per address; more come back only after a burst of parallel requests.
const MAX_IDLE: usize = 8;

pub struct ChannelPool {
    keys: ClusterKeys,
    faults: Faults,
    idle: Mutex<HashMap<SocketAddr, Vec<Channel>>>,
}

impl ChannelPool {
    pub fn new(keys: ClusterKeys, faults: Faults) -> ChannelPool {
        ChannelPool {
            keys,
            faults,
            idle: Mutex::default(),
        }
    }

    /// Sends `frame` to `addr` and waits for the reply, within `ttl`, on an idle channel.
    pub async fn call(
        &self,
        addr: SocketAddr,
        frame: &Frame,
        ttl: Duration,
    ) -> Result<Frame, StreamError> {
        let mut channel = self.take(addr);
        let reply = channel.call(frame, ttl).await;
        self.put(channel);
        reply
    }

    /// An idle channel to `addr` with its stream open, or a new one.
    fn take(&self, addr: SocketAddr) -> Channel {
        self.idle
            .lock()
            .get_mut(&addr)
            .and_then(Vec::pop)
            .unwrap_or_else(|| Channel::new(addr, self.keys.clone(), self.faults.clone()))
    }

    /// Gives back a channel after a request; one whose stream failed is dropped.
    fn put(&self, channel: Channel) {
        if !channel.is_open() {
            return;
        }
        let mut idle = self.idle.lock();
        let list = idle.entry(channel.addr()).or_default();
        if list.len() < MAX_IDLE {
            list.push(channel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::test_keys as keys;
    use crate::transport::SecureStream;
    use crate::wire::{Body, Frame};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// An echo server that holds back its answer to the `slow`-th frame of each connection by
    /// 300 ms; returns its address and the count of connections it accepted.
    async fn echo_server(slow: usize) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut stream = SecureStream::accept(tcp, &keys()).await.unwrap();
                    let mut frames = 0;
                    while let Ok(bytes) = stream.recv().await {
                        frames += 1;
                        if frames == slow {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                        if stream.send(&bytes).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    fn said(reason: &str) -> Frame {
        Frame::new(Body::Refused {
            reason: reason.to_string(),
        })
    }

    fn reason(frame: &Frame) -> &str {
        match &frame.body {
            Body::Refused { reason } => reason,
            other => panic!("not an echo: {other:?}"),
        }
    }

    /// Requests one after another share one connection; a call its caller stopped waiting for
    /// takes its channel with it (its reply was still to come on the stream), so the next
    /// caller gets its own reply on a new connection, never the old call's.
    #[tokio::test]
    async fn callers_share_one_connection_and_never_read_a_dropped_calls_reply() {
        let (addr, accepted) = echo_server(4).await;
        let pool = ChannelPool::new(keys(), Faults::default());
        let ttl = Duration::from_secs(5);
        for i in 1..4 {
            let reply = pool.call(addr, &said(&i.to_string()), ttl).await.unwrap();
            assert_eq!(reason(&reply), i.to_string());
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        let old = said("old");
        tokio::select! {
            _ = pool.call(addr, &old, ttl) => panic!("the reply is held back"),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let reply = pool.call(addr, &said("new"), ttl).await.unwrap();
        assert_eq!(reason(&reply), "new");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }
}
