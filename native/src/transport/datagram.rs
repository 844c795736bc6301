//! Sealed UDP datagrams. A datagram that fails authentication is dropped before any of it is
//! parsed; the drop is logged at debug level so that a flood of them cannot flood the log.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::Faults;
use crate::crypto::{ClusterKeys, DATAGRAM_OVERHEAD};
use crate::wire::PROTOCOL_VERSION;

/// Larger than any datagram a peer sends: foca packets are bounded well below it.
const RECV_BUFFER: usize = 64 * 1024;

#[derive(Clone)]
pub struct Datagrams {
    socket: Arc<UdpSocket>,
    keys: ClusterKeys,
    faults: Faults,
}

impl Datagrams {
    pub fn new(socket: UdpSocket, keys: ClusterKeys, faults: Faults) -> Datagrams {
        Datagrams {
            socket: Arc::new(socket),
            keys,
            faults,
        }
    }

    pub async fn send(&self, to: SocketAddr, payload: &[u8]) {
        if self.faults.is_blocked(to) {
            return;
        }
        let delay = self.faults.delay();
        if !delay.is_zero() {
            // Delivered late rather than holding up the sender's other datagrams.
            let this = self.clone();
            let payload = payload.to_vec();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let sealed = this.keys.seal_datagram(PROTOCOL_VERSION, &payload);
                let _ = this.socket.send_to(&sealed, to).await;
            });
            return;
        }
        let sealed = self.keys.seal_datagram(PROTOCOL_VERSION, payload);
        if let Err(e) = self.socket.send_to(&sealed, to).await {
            tracing::debug!(%to, error = %e, "datagram not sent");
        }
    }

    /// Waits for the next authentic datagram and returns its sender and opened payload.
    pub async fn recv(&self) -> std::io::Result<(SocketAddr, Vec<u8>)> {
        let mut buf = vec![0u8; RECV_BUFFER];
        loop {
            let (len, from) = match self.socket.recv_from(&mut buf).await {
                Ok(received) => received,
                // Linux reports an earlier send's ICMP "port unreachable" here; not fatal.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e),
            };
            if self.faults.is_blocked(from) {
                continue;
            }
            match self.keys.open_datagram(&buf[..len]) {
                Ok(payload) => return Ok((from, payload)),
                Err(e) => {
                    tracing::debug!(%from, len, overhead = DATAGRAM_OVERHEAD, error = %e, "datagram dropped")
                }
            }
        }
    }
}
