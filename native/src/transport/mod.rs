//! The only module that touches sockets: encrypted TCP streams for requests and replicated
//! data, sealed UDP datagrams for gossip, and the fault switches tests use to cut links.

mod datagram;
mod faults;
mod listener;
mod stream;

pub use datagram::Datagrams;
pub use faults::Faults;
pub use listener::{bind_pair, serve, FrameHandler};
pub use stream::{SecureStream, StreamError, HANDSHAKE_TIMEOUT};

use std::net::SocketAddr;

use crate::crypto::ClusterKeys;
use crate::wire::{self, Frame};

/// Opens a stream to `addr`, sends one frame and waits for one reply frame.
pub async fn request(
    addr: SocketAddr,
    keys: &ClusterKeys,
    faults: &Faults,
    frame: &Frame,
) -> Result<Frame, StreamError> {
    if faults.is_blocked(addr) {
        return Err(StreamError::Connect(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "link cut by fault injection",
        )));
    }
    let mut stream = SecureStream::connect(addr, keys).await?;
    let bytes = wire::encode(frame).map_err(|_| StreamError::Garbled("cannot encode a frame"))?;
    stream.send(&bytes).await?;
    let reply = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.recv())
        .await
        .map_err(|_| StreamError::Timeout)??;
    wire::decode_frame(&reply).map_err(|e| StreamError::Refused(e.to_string()))
}
