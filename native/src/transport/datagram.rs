//! Sealed UDP datagrams. A datagram that fails authentication is dropped before any of it is
//! parsed; the drop is logged at debug level so that a flood of them cannot flood the log.
//! Inside the seal each payload starts with a stamp (`replay`): a stale or replayed datagram
//! is dropped too, and logged once in a while per source (`Refusals`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::net::UdpSocket;

use super::refusals::Refusals;
use super::replay::{Rejected, Replays, Stamp, FRESH_WITHIN, STAMP_LEN};
use super::Faults;
use crate::clocks::now_millis;
use crate::crypto::{ClusterKeys, DATAGRAM_OVERHEAD};
use crate::wire::PROTOCOL_VERSION;

/// Larger than any datagram a peer sends: foca packets are bounded well below it.
const RECV_BUFFER: usize = 64 * 1024;

#[derive(Clone)]
pub struct Datagrams {
    socket: Arc<UdpSocket>,
    keys: ClusterKeys,
    faults: Faults,
    stamps: Arc<Stamps>,
}

/// This node's side of the stamps: its instance and next counter, and what it has seen.
struct Stamps {
    instance: u64,
    next: AtomicU64,
    replays: Mutex<Replays>,
    refusals: Refusals,
}

impl Datagrams {
    pub fn new(socket: UdpSocket, keys: ClusterKeys, faults: Faults) -> Datagrams {
        Datagrams {
            socket: Arc::new(socket),
            keys,
            faults,
            stamps: Arc::new(Stamps {
                instance: rand::random(),
                next: AtomicU64::new(0),
                replays: Mutex::default(),
                refusals: Refusals::default(),
            }),
        }
    }

    /// `payload` after a new stamp, sealed.
    fn seal(&self, payload: &[u8]) -> Vec<u8> {
        let mut stamped = Vec::with_capacity(STAMP_LEN + payload.len());
        Stamp {
            instance: self.stamps.instance,
            counter: self.stamps.next.fetch_add(1, Ordering::Relaxed),
            sent_ms: now_millis(),
        }
        .write(&mut stamped);
        stamped.extend_from_slice(payload);
        self.keys.seal_datagram(PROTOCOL_VERSION, &stamped)
    }

    /// The payload of an authentic datagram if it is neither stale nor a replay.
    fn unstamp(&self, from: SocketAddr, mut opened: Vec<u8>) -> Option<Vec<u8>> {
        let Some((stamp, _)) = Stamp::read(&opened) else {
            tracing::debug!(%from, "datagram dropped: no stamp");
            return None;
        };
        match self.stamps.replays.lock().check(stamp, now_millis()) {
            Ok(()) => {
                opened.drain(..STAMP_LEN);
                Some(opened)
            }
            Err(Rejected::Stale { age_ms }) => {
                self.stamps.refusals.note(
                    from.ip(),
                    "stale membership datagram dropped",
                    &format_args!(
                        "sent {age_ms} ms before this node's clock says now (limit {} s): a \
                         replay, or clocks that differ; keep the nodes' clocks in sync (NTP)",
                        FRESH_WITHIN.as_secs()
                    ),
                );
                None
            }
            Err(Rejected::Replayed) => {
                self.stamps.refusals.note(
                    from.ip(),
                    "replayed membership datagram dropped",
                    &"a datagram this node has already taken was sent again",
                );
                None
            }
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
                let sealed = this.seal(&payload);
                let _ = this.socket.send_to(&sealed, to).await;
            });
            return;
        }
        let sealed = self.seal(payload);
        self.faults.tap(to, &sealed);
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
                Ok(opened) => {
                    if let Some(payload) = self.unstamp(from, opened) {
                        return Ok((from, payload));
                    }
                }
                Err(e) => {
                    tracing::debug!(%from, len, overhead = DATAGRAM_OVERHEAD, error = %e, "datagram dropped")
                }
            }
        }
    }
}
