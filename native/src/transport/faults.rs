//! Links cut, lossy or slow on purpose. Tests of partitions and lost packets run real nodes in
//! one process and inject faults here, at the transport, so that everything above sees exactly
//! what a real network fault would show it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

#[derive(Default, Debug)]
struct Plan {
    blocked: HashSet<SocketAddr>,
    /// Fraction of datagrams and requests lost, 0.0 to 1.0.
    loss: f64,
    delay: Duration,
    /// Sealed datagrams sent while recording, as an eavesdropper records them.
    recorded: Option<Vec<(SocketAddr, Vec<u8>)>>,
}

/// Datagrams a recording keeps at most; later ones are not kept.
const MAX_RECORDED: usize = 10_000;

#[derive(Clone, Default, Debug)]
pub struct Faults {
    plan: Arc<RwLock<Plan>>,
}

impl Faults {
    /// Drops every datagram to and from `peer`, and fails every request to it.
    pub fn isolate(&self, peer: SocketAddr) {
        self.plan.write().blocked.insert(peer);
    }

    /// Loses `fraction` of outgoing datagrams and requests, at random.
    pub fn set_loss(&self, fraction: f64) {
        self.plan.write().loss = fraction.clamp(0.0, 1.0);
    }

    /// Delays every outgoing datagram and request by `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.plan.write().delay = delay;
    }

    pub fn heal(&self) {
        let mut plan = self.plan.write();
        let recorded = plan.recorded.take();
        *plan = Plan {
            recorded,
            ..Plan::default()
        };
    }

    /// Starts keeping a copy of every sealed datagram this node sends, with its destination:
    /// what an eavesdropper on the network would record, for tests of replays.
    pub fn record_datagrams(&self) {
        self.plan.write().recorded = Some(Vec::new());
    }

    /// The datagrams recorded so far.
    pub fn recorded_datagrams(&self) -> Vec<(SocketAddr, Vec<u8>)> {
        self.plan.read().recorded.clone().unwrap_or_default()
    }

    pub(super) fn tap(&self, to: SocketAddr, sealed: &[u8]) {
        if self.plan.read().recorded.is_none() {
            return;
        }
        if let Some(recorded) = self.plan.write().recorded.as_mut() {
            if recorded.len() < MAX_RECORDED {
                recorded.push((to, sealed.to_vec()));
            }
        }
    }

    pub fn is_blocked(&self, peer: SocketAddr) -> bool {
        let plan = self.plan.read();
        plan.blocked.contains(&peer) || (plan.loss > 0.0 && rand::random::<f64>() < plan.loss)
    }

    pub fn delay(&self) -> Duration {
        self.plan.read().delay
    }
}
