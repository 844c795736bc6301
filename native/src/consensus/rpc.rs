//! What travels between members of the consensus group, inside `wire::Body::Consensus`.

use openraft::error::{Infallible, InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

use super::types::{NodeId, TypeConfig};
use crate::coordination::{Command, Outcome};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ConsensusRequest {
    Append(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    Snapshot(InstallSnapshotRequest<TypeConfig>),
    /// A command for the leader to propose.
    Propose(Command),
    /// "This node's session is alive": renews its lease if the receiver is a confirmed leader.
    KeepAlive {
        session: u64,
    },
    /// A linearizable read of whether a lock is held.
    IsLocked {
        lock: String,
    },
    /// A new leader asks when this node last acked a leader of a term before `term`.
    LastAck {
        term: u64,
    },
    /// The sender leaves the group now (a graceful close); `incarnation` is its membership one.
    Leave {
        id: NodeId,
        incarnation: u64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ConsensusReply {
    Append(Result<AppendEntriesResponse<NodeId>, RemoteRaftError<Infallible>>),
    Vote(Result<VoteResponse<NodeId>, RemoteRaftError<Infallible>>),
    Snapshot(Result<InstallSnapshotResponse<NodeId>, RemoteRaftError<InstallSnapshotError>>),
    Proposed(Result<Decided, LeaderError>),
    KeepAlive(Renewal),
    IsLocked(Result<bool, LeaderError>),
    Left(Result<(), LeaderError>),
    LastAck(super::handover::AckReport),
    /// The receiver belongs to another consensus group (a cluster formed apart).
    WrongGroup {
        theirs: u64,
    },
}

/// Why the receiver's Raft did not answer a call, as it travels: the call's own error, or that
/// its Raft failed, in words. openraft's error types nest an error inside itself without bound
/// (`AnyError::source`), and a reply nested 100,000 deep (a frame of 500 KB) overflowed the stack
/// of the node that decoded it; this type holds nothing that nests.
#[derive(Debug, Serialize, Deserialize)]
pub enum RemoteRaftError<E> {
    Api(E),
    Fatal(String),
}

impl<E> From<RaftError<NodeId, E>> for RemoteRaftError<E> {
    fn from(error: RaftError<NodeId, E>) -> Self {
        match error {
            RaftError::APIError(e) => RemoteRaftError::Api(e),
            RaftError::Fatal(fatal) => RemoteRaftError::Fatal(fatal.to_string()),
        }
    }
}

/// The leader's answer to a keepalive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Renewal {
    /// Renewed. The lease counts once this node's replica has applied up to `index` (the
    /// leader's last applied entry), so that what the node reads locally is as fresh as the lease.
    Renewed { index: u64 },
    /// The cluster ended this session: the node must open a new one; its holds are lost.
    Ended,
    /// Not a leader a quorum confirms: ask again, or ask the new leader.
    NotLeader,
}

/// A command's outcome and the index of the log entry that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub outcome: Outcome,
    pub index: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LeaderError {
    #[error("this node is not the leader")]
    NotLeader,
    #[error("{0}")]
    Failed(String),
}
