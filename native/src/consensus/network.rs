//! Raft's RPCs over the project's transport, on the node's pool of channels.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

use super::rpc::{ConsensusReply, ConsensusRequest, RemoteRaftError};
use super::types::{Entry, NodeId, RaftPeer, TypeConfig};
use crate::limits::REPLICATION_MESSAGE_BYTES;
use crate::transport::{ChannelPool, StreamError};
use crate::wire::{self, Body, Frame};

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

    /// A peer's failure as openraft knows it: the call's own error as a remote one; a peer whose
    /// Raft failed is, to this node, one that does not answer.
    fn remote<T, E>(&self, result: Result<T, RemoteRaftError<E>>) -> Result<T, RpcError<E>>
    where
        E: std::error::Error,
    {
        result.map_err(|e| match e {
            RemoteRaftError::Api(e) => {
                RPCError::RemoteError(RemoteError::new(self.target, RaftError::APIError(e)))
            }
            RemoteRaftError::Fatal(why) => RPCError::Network(NetworkError::new(&Problem(format!(
                "the consensus of node {} failed: {}",
                self.target,
                wire::peer_text(&why)
            )))),
        })
    }
}

/// An answer to another call than the one sent: its contents (a claimed queue item, say) are
/// not logged.
fn mismatch<E: std::error::Error>(_reply: ConsensusReply) -> RpcError<E> {
    RPCError::Network(NetworkError::new(&Problem(
        "answer of the wrong kind".to_string(),
    )))
}

/// What an AppendEntries frame holds besides its entries (the vote, two log ids, the group,
/// enum tags and lengths): well under this.
const ENVELOPE_BYTES: usize = 1024;

/// How many of the request's entries fit in one replication message, when fewer than all of
/// them do. openraft sends as many entries as a follower lacks, up to `max_payload_entries`
/// (300): a follower behind by 200 queue items of 100 KiB was sent 20 MB frames, over the frame
/// limit, and never caught up. At least one goes: every command the leader admits fits in a
/// message of its own (limits.rs).
fn entries_that_fit(entries: &[Entry]) -> Option<u64> {
    let mut total = ENVELOPE_BYTES;
    for (taken, entry) in entries.iter().enumerate() {
        // An entry that does not even encode is left for the send to report.
        total += wire::encoded_len(entry).unwrap_or(0);
        if total > REPLICATION_MESSAGE_BYTES && taken > 0 {
            return Some(taken as u64);
        }
    }
    None
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        if let Some(fit) = entries_that_fit(&rpc.entries) {
            tracing::debug!(
                target = self.target,
                entries = rpc.entries.len(),
                fit,
                "AppendEntries over the replication message size; openraft sends fewer"
            );
            return Err(RPCError::PayloadTooLarge(
                PayloadTooLarge::new_entries_hint(fit),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::{Command, Owner};
    use crate::limits::{MAX_NAME_BYTES, MAX_QUEUE_ITEM_BYTES, MAX_TEXT_BYTES};
    use openraft::{CommittedLeaderId, EntryPayload, LogId, Vote};
    use proptest::prelude::*;

    fn entry(index: u64, command: Command) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(u64::MAX, u64::MAX), index),
            payload: EntryPayload::Normal(command),
        }
    }

    /// The whole frame a follower would be sent for `entries`, in bytes.
    fn frame_len(entries: Vec<Entry>) -> usize {
        let request = AppendEntriesRequest {
            vote: Vote::new_committed(u64::MAX, u64::MAX),
            prev_log_id: Some(LogId::new(
                CommittedLeaderId::new(u64::MAX, u64::MAX),
                u64::MAX,
            )),
            leader_commit: Some(LogId::new(
                CommittedLeaderId::new(u64::MAX, u64::MAX),
                u64::MAX,
            )),
            entries,
        };
        let frame = Frame::new(Body::Consensus {
            group: u64::MAX,
            request: Box::new(ConsensusRequest::Append(request)),
        });
        wire::encoded_len(&frame).unwrap()
    }

    fn offer(name_len: usize, item_len: usize) -> Command {
        Command::Offer {
            queue: "q".repeat(name_len),
            payload: vec![0xff; item_len],
        }
    }

    /// Every kind of command, with names, texts and payloads of the given lengths.
    fn commands(name: usize, text: usize, item: usize) -> Vec<Command> {
        let name = "é".repeat(name / 2) + &"n".repeat(name % 2);
        let owner = Owner {
            session: u64::MAX,
            thread: u64::MAX,
        };
        vec![
            Command::OpenSession {
                session: u64::MAX,
                node: "n".repeat(text),
            },
            Command::CloseSession {
                session: u64::MAX,
                reason: "r".repeat(text),
            },
            Command::Acquire {
                lock: name.clone(),
                owner,
                request: u64::MAX,
                queue: true,
            },
            Command::Release {
                lock: name.clone(),
                owner,
                fence: u64::MAX,
            },
            Command::Cancel {
                lock: name.clone(),
                owner,
                request: u64::MAX,
            },
            Command::ShedLock {
                name: name.clone(),
                session: u64::MAX,
                now_ms: u64::MAX,
                until_ms: u64::MAX,
            },
            Command::ShedUnlock {
                name: name.clone(),
                session: u64::MAX,
                at_ms: u64::MAX,
            },
            Command::Offer {
                queue: name.clone(),
                payload: vec![0xff; item],
            },
            Command::Claim {
                queue: name.clone(),
                session: u64::MAX,
            },
            Command::Settle {
                queue: name.clone(),
                session: u64::MAX,
                id: u64::MAX,
                done: true,
            },
            Command::JoinSchedule {
                name: name.clone(),
                session: u64::MAX,
            },
            Command::WithdrawSchedule {
                name: name.clone(),
                session: u64::MAX,
            },
            Command::RunPeriod {
                name,
                session: u64::MAX,
                period: u64::MAX,
                period_ms: u64::MAX,
            },
        ]
    }

    #[test]
    fn the_largest_commands_fit_one_replication_message_with_room_to_spare() {
        for command in commands(MAX_NAME_BYTES, MAX_TEXT_BYTES, MAX_QUEUE_ITEM_BYTES) {
            assert_eq!(command.check_limits(), Ok(()), "{command:?}");
            let len = frame_len(vec![entry(u64::MAX, command)]);
            assert!(len < REPLICATION_MESSAGE_BYTES * 3 / 4, "{len} bytes");
        }
    }

    #[test]
    fn a_backlog_is_cut_into_messages_under_the_budget() {
        let backlog: Vec<Entry> = (0..200).map(|i| entry(i, offer(3, 100 * 1024))).collect();
        let fit = entries_that_fit(&backlog).expect("20 MB do not fit") as usize;
        assert!(frame_len(backlog[..fit].to_vec()) <= REPLICATION_MESSAGE_BYTES);
        assert!(
            frame_len(backlog[..fit + 1].to_vec()) > REPLICATION_MESSAGE_BYTES - ENVELOPE_BYTES
        );
        assert_eq!(entries_that_fit(&backlog[..fit]), None);
        assert_eq!(entries_that_fit(&[]), None, "a heartbeat always goes");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the leader admits (`check_limits`), one entry of it, or as many as
        /// `entries_that_fit` lets through, is a frame under the replication message size.
        #[test]
        fn whatever_propose_admits_fits_one_replication_message(
            name in 0..MAX_NAME_BYTES + 8,
            text in 0..MAX_TEXT_BYTES + 8,
            item in prop_oneof![0..4096usize, MAX_QUEUE_ITEM_BYTES - 8..MAX_QUEUE_ITEM_BYTES + 8],
            count in 1..12usize,
        ) {
            for command in commands(name, text, item) {
                if command.check_limits().is_err() {
                    continue;
                }
                let entries: Vec<Entry> = (0..count as u64).map(|i| entry(i, command.clone())).collect();
                prop_assert!(frame_len(entries[..1].to_vec()) < REPLICATION_MESSAGE_BYTES);
                let fit = entries_that_fit(&entries).map_or(count, |n| n as usize);
                prop_assert!(fit >= 1);
                prop_assert!(frame_len(entries[..fit].to_vec()) <= REPLICATION_MESSAGE_BYTES);
            }
        }
    }

    #[test]
    fn a_17_mib_offer_is_refused_before_it_could_be_proposed() {
        let e = offer(3, 17 * 1024 * 1024).check_limits().unwrap_err();
        assert_eq!(
            e.to_string(),
            "queue item of 17825792 bytes is over the limit of 1048576 bytes (queue 'qqq')"
        );
    }
}
