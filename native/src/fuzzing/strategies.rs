//! Generators of valid values for everything a decoder reads: every wire body with what nests in
//! it (Raft's messages, commands, cache records, events), journal records, coordination states
//! and foca's messages. Written by hand rather than derived, so that no production type carries
//! an `Arbitrary` implementation; collections stay short, since the point is every shape, not size.

// openraft fixes its (large) error types, which the replies carry.
#![allow(clippy::result_large_err)]

use std::net::{SocketAddr, SocketAddrV6};

use bytes::Bytes;
use foca::{Header, Member, Message, State};
use openraft::error::{InstallSnapshotError, SnapshotMismatch};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{CommittedLeaderId, EntryPayload, Membership, SnapshotSegmentId, Vote};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::LazyJust;

use crate::cache::hlc::Version;
use crate::cache::store::Change;
use crate::cache::{CacheBatch, Record, RecordSet, SyncPage, SyncRequest};
use crate::consensus::handover::AckReport;
use crate::consensus::journal::Record as JournalRecord;
use crate::consensus::types::{Entry, LogId, SnapshotMeta, StoredMembership};
use crate::consensus::{
    ConsensusReply, ConsensusRequest, Decided, LeaderError, RaftPeer, RemoteRaftError, Renewal,
};
use crate::coordination::{Command, CoordinationState, Outcome, Owner};
use crate::events::{Event, EventBatch, EventsAck, Interest};
use crate::membership::NodeIdentity;
use crate::wire::{Body, Frame, Hello, Welcome};

const FEW: std::ops::Range<usize> = 0..4;

fn text() -> BoxedStrategy<String> {
    "\\PC{0,16}".boxed()
}

fn bytes() -> BoxedStrategy<Bytes> {
    vec(any::<u8>(), 0..48).prop_map(Bytes::from).boxed()
}

/// serde writes an IPv6 socket address without its flow info and scope id, so those are left
/// out: an address such as `[fe80::1%2]:7000` arrives without its `%2`.
fn addr() -> BoxedStrategy<SocketAddr> {
    any::<SocketAddr>()
        .prop_map(|addr| match addr {
            SocketAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0)),
            v4 => v4,
        })
        .boxed()
}

pub fn identity() -> BoxedStrategy<NodeIdentity> {
    (text(), addr(), text(), any::<u64>(), any::<u64>())
        .prop_map(
            |(name, addr, app_version, incarnation, raft_id)| NodeIdentity {
                name,
                addr,
                app_version,
                incarnation,
                raft_id,
            },
        )
        .boxed()
}

fn owner() -> BoxedStrategy<Owner> {
    (any::<u64>(), any::<u64>())
        .prop_map(|(session, thread)| Owner { session, thread })
        .boxed()
}

pub fn command() -> BoxedStrategy<Command> {
    let (s, n) = (any::<u64>(), text());
    prop_oneof![
        (s, n.clone()).prop_map(|(session, node)| Command::OpenSession { session, node }),
        (s, n.clone()).prop_map(|(session, reason)| Command::CloseSession { session, reason }),
        (n.clone(), owner(), s, any::<bool>()).prop_map(|(lock, owner, request, queue)| {
            Command::Acquire {
                lock,
                owner,
                request,
                queue,
            }
        }),
        (n.clone(), owner(), s).prop_map(|(lock, owner, fence)| Command::Release {
            lock,
            owner,
            fence
        }),
        (n.clone(), owner(), s).prop_map(|(lock, owner, request)| Command::Cancel {
            lock,
            owner,
            request
        }),
        (n.clone(), s, s, s).prop_map(|(name, session, now_ms, until_ms)| Command::ShedLock {
            name,
            session,
            now_ms,
            until_ms
        }),
        (n.clone(), s, s).prop_map(|(name, session, at_ms)| Command::ShedUnlock {
            name,
            session,
            at_ms
        }),
        (n.clone(), vec(any::<u8>(), 0..48))
            .prop_map(|(queue, payload)| Command::Offer { queue, payload }),
        (n.clone(), s).prop_map(|(queue, session)| Command::Claim { queue, session }),
        (n.clone(), s, s, any::<bool>()).prop_map(|(queue, session, id, done)| {
            Command::Settle {
                queue,
                session,
                id,
                done,
            }
        }),
        (n.clone(), s).prop_map(|(name, session)| Command::JoinSchedule { name, session }),
        (n.clone(), s).prop_map(|(name, session)| Command::WithdrawSchedule { name, session }),
        (n.clone(), s, s, s).prop_map(|(name, session, period, period_ms)| {
            Command::RunPeriod {
                name,
                session,
                period,
                period_ms,
            }
        }),
        (n.clone(), s, s, n.clone(), s).prop_map(|(queue, session, id, reason, at_ms)| {
            Command::SetAside {
                queue,
                session,
                id,
                reason,
                at_ms,
            }
        }),
        (n, proptest::option::of(s))
            .prop_map(|(queue, id)| Command::ClearDeadLetters { queue, id }),
    ]
    .boxed()
}

fn outcome() -> BoxedStrategy<Outcome> {
    let id = any::<u64>();
    prop_oneof![
        Just(Outcome::Done),
        id.prop_map(|fence| Outcome::Granted { fence }),
        Just(Outcome::Queued),
        Just(Outcome::Busy),
        Just(Outcome::NotOwner),
        Just(Outcome::NoSession),
        any::<bool>().prop_map(Outcome::ShedLocked),
        id.prop_map(|id| Outcome::Offered { id }),
        (id, vec(any::<u8>(), 0..48)).prop_map(|(id, payload)| Outcome::Claimed { id, payload }),
        Just(Outcome::Empty),
        Just(Outcome::AlreadyRan),
        proptest::option::of(id).prop_map(|displaced| Outcome::SetAside { displaced }),
        id.prop_map(|count| Outcome::Removed { count }),
    ]
    .boxed()
}

/// A state reached the only way a replica reaches one: by applying commands in order. The
/// sessions and names are drawn from a few, so that commands meet each other's locks and queues.
pub fn coordination_state() -> BoxedStrategy<CoordinationState> {
    let name = prop_oneof![Just("a"), Just("b")].prop_map(str::to_string);
    let session = 1..4u64;
    let open = (session.clone(), name.clone())
        .prop_map(|(session, node)| Command::OpenSession { session, node });
    let acquire = (name.clone(), session.clone(), any::<bool>()).prop_map(|(lock, s, queue)| {
        Command::Acquire {
            lock,
            owner: Owner {
                session: s,
                thread: s,
            },
            request: s,
            queue,
        }
    });
    let offer = (name.clone(), vec(any::<u8>(), 0..8))
        .prop_map(|(queue, payload)| Command::Offer { queue, payload });
    let claim = (name.clone(), session.clone())
        .prop_map(|(queue, session)| Command::Claim { queue, session });
    let join = (name, session).prop_map(|(name, session)| Command::JoinSchedule { name, session });
    vec(
        prop_oneof![open, acquire, offer, claim, join, command()],
        0..24,
    )
    .prop_map(|commands| {
        let mut state = CoordinationState::default();
        for command in &commands {
            state.apply(command);
        }
        state
    })
    .boxed()
}

fn log_id() -> BoxedStrategy<LogId> {
    (any::<u64>(), any::<u64>(), any::<u64>())
        .prop_map(|(term, node, index)| LogId::new(CommittedLeaderId::new(term, node), index))
        .boxed()
}

fn vote() -> BoxedStrategy<crate::consensus::types::Vote> {
    (any::<u64>(), any::<u64>(), any::<bool>())
        .prop_map(|(term, node, committed)| {
            if committed {
                Vote::new_committed(term, node)
            } else {
                Vote::new(term, node)
            }
        })
        .boxed()
}

fn peer() -> BoxedStrategy<RaftPeer> {
    (text(), text())
        .prop_map(|(name, addr)| RaftPeer { name, addr })
        .boxed()
}

fn membership() -> BoxedStrategy<Membership<u64, RaftPeer>> {
    (
        vec(btree_set(0..8u64, 1..4), 1..3),
        btree_map(0..8u64, peer(), FEW),
    )
        .prop_map(|(configs, nodes)| {
            // Every voter needs a node; Membership::new fills in defaults for the missing.
            Membership::new(configs, nodes)
        })
        .boxed()
}

fn entry() -> BoxedStrategy<Entry> {
    let payload = prop_oneof![
        Just(EntryPayload::Blank),
        command().prop_map(EntryPayload::Normal),
        membership().prop_map(EntryPayload::Membership),
    ];
    (log_id(), payload)
        .prop_map(|(log_id, payload)| Entry { log_id, payload })
        .boxed()
}

fn snapshot_meta() -> BoxedStrategy<SnapshotMeta> {
    (
        option::of(log_id()),
        option::of(log_id()),
        membership(),
        text(),
    )
        .prop_map(|(last_log_id, at, m, snapshot_id)| SnapshotMeta {
            last_log_id,
            last_membership: StoredMembership::new(at, m),
            snapshot_id,
        })
        .boxed()
}

fn consensus_request() -> BoxedStrategy<ConsensusRequest> {
    let append = (
        vote(),
        option::of(log_id()),
        vec(entry(), FEW),
        option::of(log_id()),
    )
        .prop_map(|(vote, prev_log_id, entries, leader_commit)| {
            ConsensusRequest::Append(AppendEntriesRequest {
                vote,
                prev_log_id,
                entries,
                leader_commit,
            })
        });
    let vote_request = (vote(), option::of(log_id()))
        .prop_map(|(vote, last_log_id)| ConsensusRequest::Vote(VoteRequest { vote, last_log_id }));
    let snapshot = (
        vote(),
        snapshot_meta(),
        any::<u64>(),
        vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
        .prop_map(|(vote, meta, offset, data, done)| {
            ConsensusRequest::Snapshot(InstallSnapshotRequest {
                vote,
                meta,
                offset,
                data,
                done,
            })
        });
    prop_oneof![
        append,
        vote_request,
        snapshot,
        command().prop_map(ConsensusRequest::Propose),
        any::<u64>().prop_map(|session| ConsensusRequest::KeepAlive { session }),
        text().prop_map(|lock| ConsensusRequest::IsLocked { lock }),
        any::<u64>().prop_map(|term| ConsensusRequest::LastAck { term }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(id, incarnation)| ConsensusRequest::Leave { id, incarnation }),
    ]
    .boxed()
}

/// A peer's Raft that failed, as it says so: in words.
fn fatal<E>() -> BoxedStrategy<RemoteRaftError<E>>
where
    E: std::fmt::Debug + 'static,
{
    text().prop_map(RemoteRaftError::Fatal).boxed()
}

fn leader_error() -> BoxedStrategy<LeaderError> {
    prop_oneof![
        Just(LeaderError::NotLeader),
        text().prop_map(LeaderError::Failed)
    ]
    .boxed()
}

fn consensus_reply() -> BoxedStrategy<ConsensusReply> {
    let append = prop_oneof![
        LazyJust::new(|| AppendEntriesResponse::Success),
        option::of(log_id()).prop_map(AppendEntriesResponse::PartialSuccess),
        LazyJust::new(|| AppendEntriesResponse::Conflict),
        vote().prop_map(AppendEntriesResponse::HigherVote),
    ];
    let vote_response = (vote(), any::<bool>(), option::of(log_id())).prop_map(
        |(vote, vote_granted, last_log_id)| VoteResponse {
            vote,
            vote_granted,
            last_log_id,
        },
    );
    let segment = (text(), any::<u64>()).prop_map(|(id, offset)| SnapshotSegmentId { id, offset });
    let mismatch = (segment.clone(), segment).prop_map(|(expect, got)| {
        RemoteRaftError::Api(InstallSnapshotError::SnapshotMismatch(SnapshotMismatch {
            expect,
            got,
        }))
    });
    let snapshot = prop_oneof![
        vote().prop_map(|vote| Ok(InstallSnapshotResponse { vote })),
        mismatch.prop_map(Err),
        fatal().prop_map(Err),
    ];
    let decided = (outcome(), any::<u64>()).prop_map(|(outcome, index)| Decided { outcome, index });
    let renewal = prop_oneof![
        any::<u64>().prop_map(|index| Renewal::Renewed { index }),
        Just(Renewal::Ended),
        Just(Renewal::NotLeader),
    ];
    let ack = (option::of(any::<u64>()), option::of(any::<u64>()))
        .prop_map(|(ago_ms, led_term)| AckReport { ago_ms, led_term });
    prop_oneof![
        prop_oneof![append.prop_map(Ok), fatal().prop_map(Err)].prop_map(ConsensusReply::Append),
        prop_oneof![vote_response.prop_map(Ok), fatal().prop_map(Err)]
            .prop_map(ConsensusReply::Vote),
        snapshot.prop_map(ConsensusReply::Snapshot),
        prop_oneof![decided.prop_map(Ok), leader_error().prop_map(Err)]
            .prop_map(ConsensusReply::Proposed),
        renewal.prop_map(ConsensusReply::KeepAlive),
        prop_oneof![any::<bool>().prop_map(Ok), leader_error().prop_map(Err)]
            .prop_map(ConsensusReply::IsLocked),
        prop_oneof![Just(Ok(())), leader_error().prop_map(Err)].prop_map(ConsensusReply::Left),
        ack.prop_map(ConsensusReply::LastAck),
        any::<u64>().prop_map(|theirs| ConsensusReply::WrongGroup { theirs }),
    ]
    .boxed()
}

fn cache_record() -> BoxedStrategy<Record> {
    let change = prop_oneof![
        (bytes(), any::<u64>()).prop_map(|(value, expires_at)| Change::Put { value, expires_at }),
        any::<u64>().prop_map(|hash| Change::Invalidate { hash }),
        Just(Change::Remove),
        Just(Change::Clear),
    ];
    (bytes(), any::<u64>(), any::<u64>(), change)
        .prop_map(|(key, clock, node, change)| Record {
            key,
            version: Version { clock, node },
            change,
        })
        .boxed()
}

/// Record sets as a writer builds them, and also with indices that name no cache of the set
/// (a peer's bug the receiver must survive).
pub fn record_set() -> BoxedStrategy<RecordSet> {
    (vec(text(), FEW), vec((0..5u32, cache_record()), FEW))
        .prop_map(|(names, records)| RecordSet { names, records })
        .boxed()
}

pub fn cache_batch() -> BoxedStrategy<CacheBatch> {
    (text(), record_set())
        .prop_map(|(origin, set)| CacheBatch { origin, set })
        .boxed()
}

pub fn event_batch() -> BoxedStrategy<EventBatch> {
    let event = (any::<u64>(), text(), bytes()).prop_map(|(seq, topic, payload)| Event {
        seq,
        topic,
        payload,
    });
    (
        any::<u64>(),
        text(),
        vec(event, FEW),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(publisher, origin, events, ack, interest)| EventBatch {
            publisher,
            origin,
            events,
            ack,
            interest,
        })
        .boxed()
}

fn events_ack() -> BoxedStrategy<EventsAck> {
    let interest = (any::<u64>(), option::of(vec(text(), FEW)))
        .prop_map(|(version, topics)| Interest { version, topics });
    (any::<u64>(), any::<u64>(), option::of(interest))
        .prop_map(|(publisher, last, interest)| EventsAck {
            publisher,
            last,
            interest,
        })
        .boxed()
}

pub fn body() -> BoxedStrategy<Body> {
    let hello = (text(), identity(), any::<u64>()).prop_map(|(cluster_name, node, clock_ms)| {
        Body::Hello(Hello {
            cluster_name,
            node,
            clock_ms,
        })
    });
    let welcome = (
        identity(),
        any::<bool>(),
        vec(identity(), FEW),
        any::<u64>(),
    )
        .prop_map(|(responder, is_member, members, group)| {
            Body::Welcome(Welcome {
                responder,
                is_member,
                members,
                group,
            })
        });
    let sync_request = (text(), addr(), any::<u64>(), any::<u64>()).prop_map(
        |(requester, addr, session, from)| {
            Body::CacheSync(SyncRequest {
                requester,
                addr,
                session,
                from,
            })
        },
    );
    let sync_page = (any::<bool>(), record_set(), option::of(any::<u64>()))
        .prop_map(|(ready, set, next)| Body::CacheSyncPage(SyncPage { ready, set, next }));
    prop_oneof![
        hello,
        welcome,
        text().prop_map(|reason| Body::Refused { reason }),
        (any::<u64>(), consensus_request()).prop_map(|(group, request)| Body::Consensus {
            group,
            request: Box::new(request)
        }),
        consensus_reply().prop_map(|reply| Body::ConsensusReply(Box::new(reply))),
        event_batch().prop_map(Body::Events),
        events_ack().prop_map(Body::EventsAck),
        cache_batch().prop_map(Body::CacheWrites),
        LazyJust::new(|| Body::CacheWritesAck),
        sync_request,
        sync_page,
    ]
    .boxed()
}

pub fn frame() -> BoxedStrategy<Frame> {
    body().prop_map(Frame::new).boxed()
}

pub fn journal_record() -> impl Strategy<Value = JournalRecord> {
    prop_oneof![
        vote().prop_map(JournalRecord::Vote),
        option::of(log_id()).prop_map(JournalRecord::Committed),
        vec(entry(), FEW).prop_map(JournalRecord::Append),
        any::<u64>().prop_map(JournalRecord::Truncate),
        log_id().prop_map(JournalRecord::Purge),
    ]
}

pub fn foca_header() -> BoxedStrategy<Header<NodeIdentity>> {
    let probe = any::<u8>();
    let message = prop_oneof![
        probe.prop_map(Message::Ping),
        probe.prop_map(Message::Ack),
        (identity(), probe).prop_map(|(target, probe_number)| Message::PingReq {
            target,
            probe_number
        }),
        (identity(), probe).prop_map(|(origin, probe_number)| Message::IndirectPing {
            origin,
            probe_number
        }),
        (identity(), probe).prop_map(|(target, probe_number)| Message::IndirectAck {
            target,
            probe_number
        }),
        (identity(), probe).prop_map(|(origin, probe_number)| Message::ForwardedAck {
            origin,
            probe_number
        }),
        Just(Message::Announce),
        Just(Message::Feed),
        Just(Message::Gossip),
        Just(Message::Broadcast),
        Just(Message::TurnUndead),
    ];
    (identity(), any::<u16>(), identity(), message)
        .prop_map(|(src, src_incarnation, dst, message)| Header {
            src,
            src_incarnation,
            dst,
            message,
        })
        .boxed()
}

pub fn foca_member() -> BoxedStrategy<Member<NodeIdentity>> {
    let state = prop_oneof![Just(State::Alive), Just(State::Suspect), Just(State::Down)];
    (identity(), any::<u16>(), state)
        .prop_map(|(id, incarnation, state)| Member::new(id, incarnation, state))
        .boxed()
}
