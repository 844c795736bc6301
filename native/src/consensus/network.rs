//! Raft's RPCs over the project's transport, on the node's pool of channels.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

use super::rpc::{ConsensusReply, ConsensusRequest};
use super::types::{NodeId, RaftPeer, TypeConfig};
use crate::transport::{ChannelPool, StreamError};
use crate::wire::{Body, Frame};

/// Why a consensus request got no reply.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("unexpected answer {0:?}")]
    Unexpected(Box<Frame>),
}

/// Sends one request of consensus group `group` to `addr` on the pool and waits for the
/// reply, within `ttl`: the one way both Raft's clients and the node's own requests travel.
pub async fn send(
    channels: &ChannelPool,
    addr: SocketAddr,
    group: u64,
    request: ConsensusRequest,
    ttl: Duration,
) -> Result<ConsensusReply, RequestError> {
    let frame = Frame::new(Body::Consensus {
        group,
        request: Box::new(request),
    });
    match channels.call(addr, &frame, ttl).await? {
        Frame {
            body: Body::ConsensusReply(reply),
            ..
        } => Ok(*reply),
        other => Err(RequestError::Unexpected(Box::new(other))),
    }
}

#[derive(Clone)]
pub struct Network {
    pub channels: Arc<ChannelPool>,
    pub group: u64,
}

pub struct Connection {
    target: NodeId,
    group: u64,
    /// `Err`: the member's address does not parse.
    addr: Result<SocketAddr, String>,
    channels: Arc<ChannelPool>,
}

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, RaftPeer, RaftError<NodeId, E>>;

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &RaftPeer) -> Connection {
        let addr = node.addr.parse::<SocketAddr>().map_err(|e| {
            format!(
                "member {} has a bad address '{}': {e}",
                node.name, node.addr
            )
        });
        Connection {
            target,
            group: self.group,
            addr,
            channels: Arc::clone(&self.channels),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Problem(String);

impl Connection {
    async fn call<E>(
        &mut self,
        request: ConsensusRequest,
        option: &RPCOption,
    ) -> Result<ConsensusReply, RpcError<E>>
    where
        E: std::error::Error,
    {
        let addr = match &self.addr {
            Ok(addr) => *addr,
            Err(e) => return Err(RPCError::Unreachable(Unreachable::new(&Problem(e.clone())))),
        };
        match send(&self.channels, addr, self.group, request, option.hard_ttl()).await {
            Ok(ConsensusReply::WrongGroup { theirs }) => {
                Err(RPCError::Unreachable(Unreachable::new(&Problem(format!(
                    "node {} belongs to consensus group {theirs}, not {}",
                    self.target, self.group
                )))))
            }
            Ok(reply) => Ok(reply),
            Err(RequestError::Stream(e @ StreamError::Connect(_))) => {
                Err(RPCError::Unreachable(Unreachable::new(&e)))
            }
            Err(e) => Err(RPCError::Network(NetworkError::new(&e))),
        }
    }

    fn remote<T, E>(&self, result: Result<T, RaftError<NodeId, E>>) -> Result<T, RpcError<E>>
    where
        E: std::error::Error,
    {
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

fn mismatch<E: std::error::Error>(reply: ConsensusReply) -> RpcError<E> {
    RPCError::Network(NetworkError::new(&Problem(format!(
        "answer of the wrong kind: {reply:?}"
    ))))
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        match self.call(ConsensusRequest::Append(rpc), &option).await? {
            ConsensusReply::Append(r) => self.remote(r),
            other => Err(mismatch(other)),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        match self.call(ConsensusRequest::Snapshot(rpc), &option).await? {
            ConsensusReply::Snapshot(r) => self.remote(r),
            other => Err(mismatch(other)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcError> {
        match self.call(ConsensusRequest::Vote(rpc), &option).await? {
            ConsensusReply::Vote(r) => self.remote(r),
            other => Err(mismatch(other)),
        }
    }
}
