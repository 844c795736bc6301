//! The membership view that the rest of the node reads: a snapshot replaced after every change,
//! so readers never hold a lock while foca works.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use super::NodeIdentity;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    Suspect,
    Down,
}

impl Liveness {
    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Alive => "ALIVE",
            Liveness::Suspect => "SUSPECT",
            Liveness::Down => "DOWN",
        }
    }

    /// A suspect is still a member: SWIM gives it the chance to refute the suspicion.
    pub fn is_live(self) -> bool {
        self != Liveness::Down
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    pub identity: NodeIdentity,
    pub liveness: Liveness,
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub local: NodeIdentity,
    /// Every member foca knows of, the local node excluded, one entry per address.
    pub others: Vec<MemberState>,
}

impl Snapshot {
    /// The other live members' addresses by name: whom a node sends its writes and events to.
    pub fn live_peers(&self) -> HashMap<String, SocketAddr> {
        self.others
            .iter()
            .filter(|m| m.liveness.is_live() && m.identity.name != self.local.name)
            .map(|m| (m.identity.name.clone(), m.identity.addr))
            .collect()
    }
}

#[derive(Clone)]
pub struct View {
    tx: Arc<watch::Sender<Arc<Snapshot>>>,
}

impl View {
    pub fn new(local: NodeIdentity) -> View {
        let (tx, _) = watch::channel(Arc::new(Snapshot {
            local,
            others: Vec::new(),
        }));
        View { tx: Arc::new(tx) }
    }

    pub fn publish(&self, snapshot: Snapshot) {
        self.tx.send_replace(Arc::new(snapshot));
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.tx.borrow())
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.tx.subscribe()
    }

    /// Live members, the local node included, sorted by name; one per name (the newest
    /// incarnation), since a restarted node may briefly show under its old address too.
    pub fn live_members(&self) -> Vec<NodeIdentity> {
        let snapshot = self.snapshot();
        let mut live: Vec<NodeIdentity> = snapshot
            .others
            .iter()
            .filter(|m| m.liveness.is_live())
            .map(|m| m.identity.clone())
            .chain(std::iter::once(snapshot.local.clone()))
            .collect();
        live.sort_by(|a, b| a.name.cmp(&b.name).then(b.incarnation.cmp(&a.incarnation)));
        live.dedup_by(|later, first| later.name == first.name);
        live
    }

    /// Whether `name` is a member this node knows of: live, or down and not yet forgotten (a
    /// node that closes leaves the membership first and then says goodbye to the consensus
    /// group; one wrongly declared down must be heard to come back).
    pub fn knows(&self, name: &str) -> bool {
        self.snapshot()
            .others
            .iter()
            .any(|m| m.identity.name == name)
    }

    pub fn is_live(&self, name: &str) -> bool {
        self.snapshot()
            .others
            .iter()
            .any(|m| m.identity.name == name && m.liveness.is_live())
    }
}
