//! The only module that touches sockets: encrypted TCP streams for requests and replicated
//! data, sealed UDP datagrams for gossip, and the fault switches tests use to cut links.

mod budget;
mod channel;
mod datagram;
mod faults;
mod listener;
mod pool;
mod reader_thread;
mod refusals;
mod replay;
pub(crate) mod stream;

pub use budget::{held as receive_budget_held, RECEIVE_BUDGET};
pub use channel::{Backoff, Channel, Link};
pub use datagram::Datagrams;
pub use faults::Faults;
pub use listener::{bind_pair, serve, Answer, FrameHandler, Peer, Reply};
pub use pool::ChannelPool;
pub use replay::CLOCK_SKEW_MAX;
pub use stream::{SecureStream, StreamError, StreamReader, StreamWriter, HANDSHAKE_TIMEOUT};

use std::net::SocketAddr;

use crate::crypto::ClusterKeys;
use crate::wire::Frame;

/// The keys of a cluster of one name, for tests of streams on their own.
#[cfg(test)]
fn test_keys() -> ClusterKeys {
    ClusterKeys::derive(
        Some(&crate::crypto::Secret::new("a secret for transport tests")),
        "transport-test",
        "unversioned",
        crate::wire::PROTOCOL_VERSION,
    )
}

/// Opens a stream to `addr`, sends one frame and waits for one reply frame.
pub async fn request(
    addr: SocketAddr,
    keys: &ClusterKeys,
    faults: &Faults,
    frame: &Frame,
) -> Result<Frame, StreamError> {
    let ttl = HANDSHAKE_TIMEOUT * 2;
    Channel::new(addr, keys.clone(), faults.clone())
        .call(frame, ttl)
        .await
}
