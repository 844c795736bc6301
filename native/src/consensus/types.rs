use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::coordination::{Command, Outcome};

/// A member of the consensus group as Raft records it: enough to reach it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftPeer {
    pub name: String,
    pub addr: String,
}

openraft::declare_raft_types!(
    /// The consensus group's types: coordination commands in, their outcomes out.
    pub TypeConfig:
        D = Command,
        R = Outcome,
        NodeId = u64,
        Node = RaftPeer,
        SnapshotData = Cursor<Vec<u8>>,
);

pub type NodeId = u64;
pub type Raft = openraft::Raft<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type StoredMembership = openraft::StoredMembership<NodeId, RaftPeer>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, RaftPeer>;
