//! Answers what peers send this node: a `Hello` from a joiner, consensus messages, events and
//! cache writes.
//!
//! A `Hello` from a node that can never be part of this cluster (another app version, a name
//! already in use) is refused; otherwise the answer says whether this node is a member, who
//! else is, and which consensus group they form. Every other frame is taken only from a node
//! this node knows as a member (by the name it gave when it opened the stream): live, or down
//! in the last 30 s (foca's `remove_down_after`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Shared;
use crate::membership::NodeIdentity;
use crate::transport::{Answer, FrameHandler, Peer, Reply, CLOCK_SKEW_MAX};
use crate::wire::{self, Body, Frame, Hello, Welcome};

pub struct Dispatcher {
    pub shared: Arc<Shared>,
}

impl Dispatcher {
    fn answer(&self, peer: &Peer, hello: Hello) -> Body {
        let local = self.shared.view.snapshot().local.clone();
        // The reason quotes the joiner's own words (names, versions): cleaned before it is logged.
        match self
            .refusal(&local, &hello)
            .map(|reason| wire::peer_text(&reason))
        {
            Some(reason) => {
                tracing::warn!(peer = %peer.addr, "refused a node: {reason}");
                Body::Refused { reason }
            }
            None => {
                let consensus = self.shared.consensus.get();
                Body::Welcome(Welcome {
                    responder: local,
                    is_member: self.shared.is_member.load(Ordering::Acquire) && consensus.is_some(),
                    members: self.shared.view.live_members(),
                    group: consensus.map_or(0, |c| c.group()),
                })
            }
        }
    }

    fn refusal(&self, local: &NodeIdentity, hello: &Hello) -> Option<String> {
        let node = &hello.node;
        let cluster_name = &self.shared.config.cluster_name;
        if hello.cluster_name != *cluster_name {
            return Some(format!(
                "node '{}' belongs to cluster '{}', this is cluster '{}'",
                node.name, hello.cluster_name, cluster_name
            ));
        }
        let skew_ms = i128::from(hello.clock_ms) - i128::from(crate::clocks::now_millis());
        if skew_ms.unsigned_abs() > CLOCK_SKEW_MAX.as_millis() {
            return Some(format!(
                "node '{}' has a clock {} ms {} this node's (more than {} s apart): \
                 keep the nodes' clocks in sync (NTP)",
                node.name,
                skew_ms.unsigned_abs(),
                if skew_ms > 0 { "ahead of" } else { "behind" },
                CLOCK_SKEW_MAX.as_secs()
            ));
        }
        if node.app_version != local.app_version {
            return Some(format!(
                "node '{}' runs app version {}, this cluster runs {}",
                node.name, node.app_version, local.app_version
            ));
        }
        self.shared
            .view
            .live_members()
            .into_iter()
            .find(|m| m.name == node.name && m.addr != node.addr)
            .map(|m| {
                format!(
                    "node name '{}' is already used by the member at {}; give each node its own cluster.node.name",
                    node.name, m.addr
                )
            })
    }
}

impl FrameHandler for Dispatcher {
    fn admits(&self, peer: &Peer, frame: &Frame) -> bool {
        matches!(frame.body, Body::Hello(_)) || self.shared.view.knows(&peer.name)
    }

    fn handle(&self, peer: Peer, frame: Frame) -> Reply<'_> {
        Box::pin(async move {
            match frame.body {
                Body::Hello(hello) => Some(Frame::new(self.answer(&peer, hello))),
                Body::Consensus { group, request } => {
                    let consensus = self.shared.consensus.get()?;
                    let reply = consensus.handle(group, *request).await;
                    Some(Frame::new(Body::ConsensusReply(Box::new(reply))))
                }
                Body::CacheWrites(batch) => {
                    self.shared.caches.receive(batch);
                    Some(Frame::new(Body::CacheWritesAck))
                }
                Body::CacheSync(request) => Some(Frame::new(Body::CacheSyncPage(
                    self.shared.caches.serve_sync(&request),
                ))),
                other => {
                    tracing::warn!(peer = %peer.addr, kind = other.kind(), "unexpected frame ignored");
                    None
                }
            }
        })
    }

    fn answer_now(&self, _peer: &Peer, frame: Frame) -> Answer {
        match frame.body {
            Body::Events(batch) => Answer::Now(
                self.shared
                    .events
                    .receive(batch)
                    .map(|ack| Frame::new(Body::EventsAck(ack))),
            ),
            body => Answer::Later(Frame { body, ..frame }),
        }
    }
}
