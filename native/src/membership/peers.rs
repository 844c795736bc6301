//! Keeping a map of per-peer senders in step with the membership view: what the events and the
//! cache outboxes share. A member that turns unreachable keeps its place (and its backlog) for a
//! retention time, so a brief partition or a refuted suspicion costs nothing; then it is stopped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Snapshot, View};

/// How often the view is looked at even without a change: retention times run out on it.
const RECHECK: Duration = Duration::from_secs(1);

/// A sender's state for one peer.
pub trait Peer {
    fn set_addr(&mut self, addr: SocketAddr);
    /// When the peer was last seen to go; None while it is live.
    fn down_since(&mut self) -> &mut Option<Instant>;
    /// Called once, when the peer is forgotten.
    fn stop(&mut self);
}

/// Brings `peers` in line with `snapshot`: a new live member gets `add`'s peer, a known one its
/// current address; a member gone is kept for `retention`, then stopped and dropped (logged
/// with `forgotten`).
pub fn reconcile<P: Peer>(
    peers: &mut HashMap<String, P>,
    snapshot: &Snapshot,
    retention: Duration,
    mut add: impl FnMut(&str, SocketAddr) -> P,
    forgotten: &str,
) {
    let live = snapshot.live_peers();
    for (name, addr) in &live {
        match peers.get_mut(name) {
            Some(peer) => {
                peer.set_addr(*addr);
                *peer.down_since() = None;
            }
            None => {
                let peer = add(name, *addr);
                peers.insert(name.clone(), peer);
            }
        }
    }
    let now = Instant::now();
    peers.retain(|name, peer| {
        if live.contains_key(name) {
            return true;
        }
        let since = *peer.down_since().get_or_insert(now);
        let keep = now.duration_since(since) < retention;
        if !keep {
            peer.stop();
            tracing::info!(peer = %name, "{forgotten}");
        }
        keep
    });
}

/// Calls `apply` with the view at every change, and every second; stops when it returns false
/// or the view is gone.
pub async fn follow(view: &View, mut apply: impl FnMut(Arc<Snapshot>) -> bool) {
    let mut changes = view.subscribe();
    let mut tick = tokio::time::interval(RECHECK);
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = tick.tick() => {}
        }
        if !apply(view.snapshot()) {
            return;
        }
    }
}
