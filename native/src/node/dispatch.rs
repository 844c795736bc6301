//! Answers a `Hello`: refuses a node that can never be part of this cluster (another app
//! version, a name already in use), and otherwise tells it whether this node is a member and
//! who else is.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::membership::{NodeIdentity, View};
use crate::transport::FrameHandler;
use crate::wire::{Body, Frame, Hello, Welcome};

pub struct Greeter {
    pub cluster_name: String,
    pub view: View,
    pub is_member: Arc<AtomicBool>,
}

impl Greeter {
    fn answer(&self, peer: SocketAddr, hello: Hello) -> Body {
        let local = self.view.snapshot().local.clone();
        match self.refusal(&local, &hello) {
            Some(reason) => {
                tracing::warn!(%peer, node = %hello.node.name, "refused a node: {reason}");
                Body::Refused { reason }
            }
            None => Body::Welcome(Welcome {
                responder: local,
                is_member: self.is_member.load(Ordering::Acquire),
                members: self.view.live_members(),
            }),
        }
    }

    fn refusal(&self, local: &NodeIdentity, hello: &Hello) -> Option<String> {
        let node = &hello.node;
        if hello.cluster_name != self.cluster_name {
            return Some(format!(
                "node '{}' belongs to cluster '{}', this is cluster '{}'",
                node.name, hello.cluster_name, self.cluster_name
            ));
        }
        if node.app_version != local.app_version {
            return Some(format!(
                "node '{}' runs app version {}, this cluster runs {}",
                node.name, node.app_version, local.app_version
            ));
        }
        self.view
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

impl FrameHandler for Greeter {
    fn handle(&self, peer: SocketAddr, frame: Frame) -> Option<Frame> {
        match frame.body {
            Body::Hello(hello) => Some(Frame::new(self.answer(peer, hello))),
            other => {
                tracing::warn!(%peer, frame = ?other, "unexpected frame ignored");
                None
            }
        }
    }
}
