use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A node as the others know it. `incarnation` makes a restarted or renewed node win over its
/// earlier self at the same address; it starts from the wall clock so that a restart wins too.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeIdentity {
    pub name: String,
    pub addr: SocketAddr,
    pub app_version: String,
    pub incarnation: u64,
    /// This node's id in the consensus group.
    pub raft_id: u64,
}

impl NodeIdentity {
    pub fn new(name: String, addr: SocketAddr, app_version: String, raft_id: u64) -> NodeIdentity {
        let incarnation = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        NodeIdentity {
            name,
            addr,
            app_version,
            incarnation,
            raft_id,
        }
    }
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}#{}", self.name, self.addr, self.incarnation)
    }
}

impl foca::Identity for NodeIdentity {
    type Addr = SocketAddr;

    /// Lets foca rejoin at once, under a newer incarnation, when the cluster declared this node
    /// down while it was in fact alive (a long pause, a brief partition).
    fn renew(&self) -> Option<Self> {
        Some(NodeIdentity {
            incarnation: self.incarnation.wrapping_add(1),
            ..self.clone()
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        self.incarnation > adversary.incarnation
    }
}
