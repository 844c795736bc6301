//! Answers what peers send this node: a `Hello` from a joiner, consensus messages, events and
//! cache writes.
//!
//! A `Hello` from a node that can never be part of this cluster (another app version, a name
//! already in use) is refused; otherwise the answer says whether this node is a member, who
//! else is, and which consensus group they form.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Shared;
use crate::membership::NodeIdentity;
use crate::transport::{Answer, FrameHandler, Reply};
use crate::wire::{Body, Frame, Hello, Welcome};

pub struct Dispatcher {
    pub shared: Arc<Shared>,
}

impl Dispatcher {
    fn answer(&self, peer: SocketAddr, hello: Hello) -> Body {
        let local = self.shared.view.snapshot().local.clone();
        match self.refusal(&local, &hello) {
            Some(reason) => {
                tracing::warn!(%peer, node = %hello.node.name, "refused a node: {reason}");
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
    fn handle(&self, peer: SocketAddr, frame: Frame) -> Reply<'_> {
        Box::pin(async move {
            match frame.body {
                Body::Hello(hello) => Some(Frame::new(self.answer(peer, hello))),
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
                    tracing::warn!(%peer, frame = ?other, "unexpected frame ignored");
                    None
                }
            }
        })
    }

    fn answer_now(&self, _peer: SocketAddr, frame: Frame) -> Answer {
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
