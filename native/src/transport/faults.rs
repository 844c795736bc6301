//! Links cut on purpose. Tests of partitions and lost packets run real nodes in one process and
//! cut links here, at the transport, so that everything above sees exactly what a real network
//! fault would show it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::RwLock;

#[derive(Clone, Default, Debug)]
pub struct Faults {
    blocked: Arc<RwLock<HashSet<SocketAddr>>>,
}

impl Faults {
    /// Drops every datagram to and from `peer`, and refuses new streams to it.
    pub fn isolate(&self, peer: SocketAddr) {
        self.blocked.write().insert(peer);
    }

    pub fn heal(&self) {
        self.blocked.write().clear();
    }

    pub fn is_blocked(&self, peer: SocketAddr) -> bool {
        let blocked = self.blocked.read();
        !blocked.is_empty() && blocked.contains(&peer)
    }
}
