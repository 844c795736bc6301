//! What is decided: a Raft group (openraft) over the project's transport, whose state machine
//! holds lock sessions and locks. The leader also keeps the group's membership in step with
//! SWIM (adding joiners as learners, giving a dead voter's vote to a live learner) and ends the
//! sessions of nodes that stopped renewing their lease.

// openraft's storage and network traits fix their (large) error types.
#![allow(clippy::result_large_err)]

mod data_dir;
mod durable;
pub(crate) mod handover;
pub(crate) mod journal;
mod log_store;
mod network;
mod panic;
mod rpc;
pub(crate) mod state_machine;
pub mod timing;
pub(crate) mod types;

pub use durable::DurableIdentity;
pub use rpc::{ConsensusReply, ConsensusRequest, Decided, LeaderError, RemoteRaftError, Renewal};
pub use types::{NodeId, RaftPeer};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, InstallSnapshotError, RaftError, SnapshotMismatch};
use openraft::SnapshotSegmentId;
use openraft::{ChangeMembers, ServerState};
use parking_lot::Mutex;
use tokio::time::Instant;

use self::log_store::LogStore;
use self::network::Network;
use self::state_machine::{Replica, StateMachine};
use self::timing::*;
use self::types::Raft;
use crate::clocks;
use crate::coordination::{Command, CoordinationState, Waiters};
use crate::crypto::ClusterKeys;
use crate::error::{ClusterError, Result};
use crate::limits::{check_name, LimitError, Named, MAX_SNAPSHOT_BYTES, SNAPSHOT_CHUNK_BYTES};
use crate::logging::Throttle;
use crate::membership::View;
use crate::transport::{ChannelPool, Faults};

pub struct ConsensusConfig {
    pub cluster_name: String,
    pub node_name: String,
    pub addr: SocketAddr,
    pub id: NodeId,
    pub group: NodeId,
    pub voters: usize,
    pub data_dir: Option<PathBuf>,
    pub session: u64,
    pub panic_timeout: Duration,
}

pub struct Consensus {
    id: NodeId,
    group: NodeId,
    voters: usize,
    node_name: String,
    /// Set once this node's first session is open; cleared when it leaves.
    in_service: std::sync::atomic::AtomicBool,
    raft: Raft,
    replica: Arc<Replica>,
    pub waiters: Arc<Waiters>,
    view: View,
    /// Until when this node's session is known alive (None: never confirmed).
    lease: Mutex<Option<Instant>>,
    pub panic: panic::Panic,
    panic_timeout: Duration,
    /// When a quorum last confirmed this node as leader (the confirmation's start).
    confirmed_at: Mutex<Option<Instant>>,
    leader_state: Mutex<LeaderState>,
    acks: handover::AckLog,
    /// The last other leader this node followed: (term, id).
    followed: Mutex<Option<(u64, NodeId)>>,
    /// Shared with Raft's own clients (network.rs).
    channels: Arc<ChannelPool>,
    /// Warnings about commands the leader refused (past the limits, a clock running ahead): a
    /// peer that keeps proposing them must not flood the log.
    refused: Throttle,
}

/// What only the leader keeps, reset whenever this node becomes leader of a new term.
#[derive(Default)]
struct LeaderState {
    term: u64,
    /// Session timers of this term start here unless a keepalive came later (handover.rs).
    timers_from: Option<Instant>,
    /// Per session, the term and time of the last keepalive this node renewed as leader.
    keepalives: HashMap<u64, (u64, Instant)>,
    down_since: HashMap<NodeId, Instant>,
    /// Nodes leaving the group, with the membership incarnation they left under: the same
    /// node back under a newer incarnation (a restart with its data directory) is a joiner.
    leaving: HashMap<NodeId, u64>,
}

fn raft_config(cluster_name: &str) -> Result<openraft::Config> {
    let config = openraft::Config {
        cluster_name: cluster_name.to_string(),
        heartbeat_interval: HEARTBEAT_MS,
        election_timeout_min: ELECTION_MIN_MS,
        election_timeout_max: ELECTION_MAX_MS,
        // Each chunk of a snapshot is one request with this timeout: chunks a fraction of a
        // replication message (limits.rs) travel in milliseconds on a LAN, so a state machine of
        // any size reaches a follower that fell behind the purged log.
        install_snapshot_timeout: 2000,
        snapshot_max_chunk_size: SNAPSHOT_CHUNK_BYTES as u64,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(1000),
        max_in_snapshot_log_to_keep: 200,
        ..Default::default()
    };
    config
        .validate()
        .map_err(|e| ClusterError::Protocol(format!("invalid Raft configuration: {e}")))
}

impl Consensus {
    pub async fn start(
        config: ConsensusConfig,
        keys: ClusterKeys,
        faults: Faults,
        view: View,
    ) -> Result<Arc<Consensus>> {
        let waiters = Arc::new(Waiters::default());
        let dir = config.data_dir.as_deref();
        let io =
            |e: std::io::Error| ClusterError::io("cluster.data.dir: cannot use the Raft state", e);
        let log = LogStore::open(dir).map_err(io)?;
        let replica = Replica::open(dir, config.session, Arc::clone(&waiters)).map_err(io)?;
        let channels = Arc::new(ChannelPool::new(keys, faults));
        let network = Network {
            channels: Arc::clone(&channels),
            group: config.group,
        };
        let raft = Raft::new(
            config.id,
            Arc::new(raft_config(&config.cluster_name)?),
            network,
            log,
            StateMachine(Arc::clone(&replica)),
        )
        .await
        .map_err(|e| ClusterError::Protocol(format!("cannot start Raft: {e}")))?;
        if config.group == config.id {
            let me = BTreeMap::from([(
                config.id,
                RaftPeer {
                    name: config.node_name.clone(),
                    addr: config.addr.to_string(),
                },
            )]);
            // Fails harmlessly when the log already holds a membership (a restart).
            if let Err(e) = raft.initialize(me).await {
                tracing::debug!(error = %e, "Raft group already initialized");
            }
        }
        Ok(Arc::new(Consensus {
            id: config.id,
            group: config.group,
            voters: config.voters,
            node_name: config.node_name.clone(),
            in_service: std::sync::atomic::AtomicBool::new(false),
            raft,
            replica,
            waiters,
            view,
            lease: Mutex::new(None),
            panic: panic::Panic::default(),
            panic_timeout: config.panic_timeout,
            confirmed_at: Mutex::new(None),
            leader_state: Mutex::new(LeaderState::default()),
            acks: handover::AckLog::default(),
            followed: Mutex::new(None),
            channels,
            refused: Throttle::new(Duration::from_secs(10)),
        }))
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn group(&self) -> NodeId {
        self.group
    }

    pub fn session(&self) -> u64 {
        self.replica.session()
    }

    /// Opens this node's lock session and waits until this replica has applied it, which also
    /// means the node receives the log.
    pub async fn open_session(self: &Arc<Self>, deadline: Instant) -> Result<()> {
        let session = self.session();
        self.propose(
            Command::OpenSession {
                session,
                node: self.node_name.clone(),
            },
            deadline,
        )
        .await?;
        while !self.replica.read(|s| s.has_session(session)) {
            if Instant::now() >= deadline {
                return Err(ClusterError::JoinTimeout(
                    "joined the membership, but the consensus group did not take this node in before cluster.join.timeout.ms".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        *self.lease.lock() = Some(Instant::now() + LEASE);
        // While the group has fewer voters than wanted, a new node returns only once it votes,
        // so that a cluster started node by node survives the loss of any one of them.
        while !self.has_settled_role() {
            if Instant::now() >= deadline {
                return Err(ClusterError::JoinTimeout(
                    "joined, but the consensus group did not make this node a voter before cluster.join.timeout.ms".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.in_service
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// After the leader says the cluster ended this node's session (it was cut off or frozen
    /// past the expiry), the node opens a new one: its old holds are gone, new calls work.
    async fn replace_ended_session(&self) {
        let session = self.session();
        if !self.in_service.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        // This replica may be too stale to have applied the end itself: fail the old waits now.
        self.waiters.fail_all(
            "this node's lock session was ended by the cluster while it was out of contact",
        );
        let fresh = rand::random();
        tracing::warn!(
            old = session,
            new = fresh,
            "the cluster ended this node's lock session while it was out of contact; its locks are lost, opening a new session"
        );
        self.replica.set_session(fresh);
        let open = Command::OpenSession {
            session: fresh,
            node: self.node_name.clone(),
        };
        if let Err(e) = self.propose(open, Instant::now() + PROPOSE_TIMEOUT).await {
            tracing::warn!(error = %e, "could not open a new lock session yet");
            self.replica.set_session(session);
        }
    }

    fn has_settled_role(&self) -> bool {
        let metrics = self.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        voters.contains(&self.id) || voters.len() >= self.voters
    }

    pub fn spawn_background(self: &Arc<Self>) {
        tokio::spawn(Arc::clone(self).confirm_leadership());
        tokio::spawn(Arc::clone(self).keep_alive());
        tokio::spawn(Arc::clone(self).reconcile());
    }

    pub fn read<T>(&self, f: impl FnOnce(&CoordinationState) -> T) -> T {
        self.replica.read(f)
    }

    /// The index of the last log entry this replica has applied.
    pub fn applied_index(&self) -> u64 {
        self.replica.applied_index()
    }

    pub fn lease_valid(&self) -> bool {
        self.lease_lapsed_for().is_none() && self.panic.reason().is_none()
    }

    /// How long ago this node's lease ran out; `None` while it is valid.
    pub fn lease_lapsed_for(&self) -> Option<Duration> {
        let until = (*self.lease.lock())?;
        let now = Instant::now();
        (now >= until).then(|| now - until)
    }

    /// The leader's name, the term, and this node's role, as `status()` reports them.
    pub fn role(&self) -> (Option<String>, u64, &'static str) {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader.and_then(|id| {
            metrics
                .membership_config
                .membership()
                .get_node(&id)
                .map(|n| n.name.clone())
        });
        let role = match metrics.state {
            ServerState::Leader => "LEADER",
            ServerState::Follower => "FOLLOWER",
            ServerState::Candidate => "CANDIDATE",
            ServerState::Learner => "LEARNER",
            ServerState::Shutdown => "SHUTDOWN",
        };
        (leader, metrics.current_term, role)
    }

    fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    fn confirmed_recently(&self) -> bool {
        self.confirmed_at
            .lock()
            .is_some_and(|at| at.elapsed() < CONFIRMED_WITHIN)
    }

    /// Called for every proposal a follower forwards: reads the metrics in place, no copy.
    fn leader_addr(&self) -> Option<SocketAddr> {
        let receiver = self.raft.metrics();
        let metrics = receiver.borrow();
        let leader = metrics.current_leader?;
        metrics
            .membership_config
            .membership()
            .get_node(&leader)?
            .addr
            .parse()
            .ok()
    }

    /// Some live member to ask when this node knows no leader yet (it just joined).
    fn any_member_addr(&self) -> Option<SocketAddr> {
        let local = self.view.snapshot().local.addr;
        self.view
            .live_members()
            .into_iter()
            .map(|m| m.addr)
            .find(|a| *a != local)
    }

    /// Sends a request to `addr` over a pooled channel.
    async fn call(&self, addr: SocketAddr, request: ConsensusRequest) -> Option<ConsensusReply> {
        self.call_within(addr, request, RPC_TIMEOUT).await
    }

    async fn call_within(
        &self,
        addr: SocketAddr,
        request: ConsensusRequest,
        ttl: Duration,
    ) -> Option<ConsensusReply> {
        network::send(&self.channels, addr, self.group, request, ttl)
            .await
            .inspect_err(|e| tracing::debug!(%addr, error = %e, "consensus request failed"))
            .ok()
    }

    /// Proposes a command through the leader, wherever it is, and returns its outcome with
    /// the index of the log entry that decided it.
    pub async fn propose(&self, command: Command, deadline: Instant) -> Result<Decided> {
        let mut hint: Option<SocketAddr> = None;
        loop {
            if Instant::now() >= deadline {
                return Err(ClusterError::Unavailable(
                    "no leader of the cluster answered in time; the operation may or may not have taken effect"
                        .into(),
                ));
            }
            if self.is_leader() {
                match self.propose_as_leader(command.clone()).await {
                    Ok(decided) => return Ok(decided),
                    Err(LeaderError::Failed(e)) => return Err(ClusterError::Unavailable(e)),
                    Err(LeaderError::NotLeader) => {}
                }
            }
            let Some(addr) = hint
                .take()
                .or_else(|| self.leader_addr())
                .or_else(|| self.any_member_addr())
            else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            match self
                .call(addr, ConsensusRequest::Propose(command.clone()))
                .await
            {
                Some(ConsensusReply::Proposed(Ok(decided))) => return Ok(decided),
                Some(ConsensusReply::Proposed(Err(LeaderError::Failed(e)))) => {
                    return Err(ClusterError::Unavailable(e))
                }
                _ => tokio::time::sleep(Duration::from_millis(30)).await,
            }
        }
    }

    /// A linearizable read: answered by a leader that a quorum confirms at the time of asking.
    pub async fn is_locked(&self, lock: &str) -> Result<bool> {
        let deadline = Instant::now() + PROPOSE_TIMEOUT;
        while Instant::now() < deadline {
            if self.is_leader() {
                if let Ok(Ok(_)) =
                    tokio::time::timeout_at(deadline, self.raft.ensure_linearizable()).await
                {
                    return Ok(self.replica.read(|s| s.is_locked(lock)));
                }
            } else if let Some(addr) = self.leader_addr().or_else(|| self.any_member_addr()) {
                if let Some(ConsensusReply::IsLocked(Ok(held))) = self
                    .call(
                        addr,
                        ConsensusRequest::IsLocked {
                            lock: lock.to_string(),
                        },
                    )
                    .await
                {
                    return Ok(held);
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        Err(ClusterError::Unavailable(
            "no leader of the cluster answered in time".into(),
        ))
    }

    /// Answers a consensus request from a peer.
    pub async fn handle(&self, group: NodeId, request: ConsensusRequest) -> ConsensusReply {
        if group != self.group {
            tracing::warn!(
                theirs = group,
                ours = self.group,
                "refused a consensus message of another group (a cluster formed apart?)"
            );
            return ConsensusReply::WrongGroup { theirs: self.group };
        }
        match request {
            ConsensusRequest::Append(rpc) => {
                let term = rpc.vote.leader_id().term;
                let reply = self.raft.append_entries(rpc).await;
                self.acks.acked(term);
                ConsensusReply::Append(reply.map_err(RemoteRaftError::from))
            }
            ConsensusRequest::LastAck { term } => ConsensusReply::LastAck(self.acks.report(term)),
            ConsensusRequest::Vote(rpc) => {
                ConsensusReply::Vote(self.raft.vote(rpc).await.map_err(RemoteRaftError::from))
            }
            ConsensusRequest::Snapshot(rpc) => ConsensusReply::Snapshot(match refuse_chunk(&rpc) {
                None => self
                    .raft
                    .install_snapshot(rpc)
                    .await
                    .map_err(RemoteRaftError::from),
                Some(refused) => Err(RemoteRaftError::Api(refused)),
            }),
            ConsensusRequest::Propose(command) => {
                ConsensusReply::Proposed(self.propose_as_leader(command).await)
            }
            ConsensusRequest::KeepAlive { session } => {
                ConsensusReply::KeepAlive(self.renew(session))
            }
            ConsensusRequest::IsLocked { lock } => {
                ConsensusReply::IsLocked(if let Err(e) = check_name(Named::Lock, &lock) {
                    Err(LeaderError::Failed(e.to_string()))
                } else if self.is_leader() {
                    match tokio::time::timeout(RPC_TIMEOUT, self.raft.ensure_linearizable()).await {
                        Ok(Ok(_)) => Ok(self.replica.read(|s| s.is_locked(&lock))),
                        _ => Err(LeaderError::NotLeader),
                    }
                } else {
                    Err(LeaderError::NotLeader)
                })
            }
            ConsensusRequest::Leave { id, incarnation } => ConsensusReply::Left(
                if self.is_leader()
                    && tokio::time::timeout(RPC_TIMEOUT, self.remove_member(id, incarnation)).await
                        == Ok(true)
                {
                    Ok(())
                } else {
                    Err(LeaderError::NotLeader)
                },
            ),
        }
    }

    async fn propose_as_leader(
        &self,
        command: Command,
    ) -> std::result::Result<Decided, LeaderError> {
        if !self.is_leader() {
            return Err(LeaderError::NotLeader);
        }
        if let Err(e) = command.check_limits() {
            if let Some(count) = self.refused.allow() {
                tracing::warn!(error = %e, refused = count, "refused to propose a command past the limits");
            }
            return Err(LeaderError::Failed(format!("the leader refused: {e}")));
        }
        // Here and not in the state machine: applying must give the same result on every
        // replica, whatever its clock, and the leader's clock is the one that admits.
        if let Some(ahead) = command.proposers_time_ms().and_then(clocks::too_far_ahead) {
            let refusal = format!(
                "the proposing node's clock is {} s ahead of the leader's (more than {} s); check the clocks of the nodes (NTP)",
                ahead.as_secs(),
                clocks::MAX_AHEAD.as_secs()
            );
            if let Some(count) = self.refused.allow() {
                tracing::warn!(
                    refused = count,
                    ?command,
                    "refused to propose a command: {refusal}"
                );
            }
            return Err(LeaderError::Failed(format!(
                "the leader refused: {refusal}"
            )));
        }
        match tokio::time::timeout(PROPOSE_TIMEOUT, self.raft.client_write(command)).await {
            Ok(Ok(response)) => Ok(Decided {
                outcome: response.data,
                index: response.log_id.index,
            }),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => {
                Err(LeaderError::NotLeader)
            }
            Ok(Err(e)) => Err(LeaderError::Failed(format!("the cluster refused: {e}"))),
            Err(_) => Err(LeaderError::Failed(
                "the leader did not commit in time; the operation may or may not have taken effect"
                    .into(),
            )),
        }
    }

    /// Leader side of a keepalive: yes only while a quorum recently confirmed this leadership.
    fn renew(&self, session: u64) -> Renewal {
        if !self.is_leader() || !self.confirmed_recently() {
            return Renewal::NotLeader;
        }
        if !self.replica.read(|s| s.has_session(session)) {
            return Renewal::Ended;
        }
        let term = self.raft.metrics().borrow().current_term;
        self.leader_state
            .lock()
            .keepalives
            .insert(session, (term, Instant::now()));
        Renewal::Renewed {
            index: self.replica.applied_index(),
        }
    }

    async fn confirm_leadership(self: Arc<Self>) {
        let mut tick = tokio::time::interval(CONFIRM_EVERY);
        loop {
            tick.tick().await;
            self.observe_leader();
            if !self.is_leader() {
                continue;
            }
            let started = Instant::now();
            if let Ok(Ok(_)) =
                tokio::time::timeout(CONFIRMED_WITHIN, self.raft.get_read_log_id()).await
            {
                let mut at = self.confirmed_at.lock();
                if at.is_none_or(|t| t < started) {
                    *at = Some(started);
                }
            }
        }
    }

    /// Remembers who leads: the term this node leads, or the other leader it follows.
    fn observe_leader(&self) {
        let metrics = self.raft.metrics().borrow().clone();
        match metrics.current_leader {
            Some(leader) if leader == self.id => self.acks.led(metrics.current_term),
            Some(leader) => *self.followed.lock() = Some((metrics.current_term, leader)),
            None => {}
        }
    }

    /// At the start of this node's term: when, at the latest, an earlier leader was confirmed
    /// (handover.rs); `None` keeps the timers at this term's start.
    async fn earlier_confirmations_end(
        &self,
        term: u64,
        membership: &openraft::Membership<NodeId, RaftPeer>,
    ) -> Option<Instant> {
        let (previous_term, previous) = (*self.followed.lock())?;
        // Reports come from the nodes that followed the previous leader, this one included.
        if previous_term >= term || membership.get_joint_config().len() != 1 {
            return None;
        }
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let mut reports = vec![(self.id, self.acks.report(term), Instant::now())];
        for voter in voters
            .iter()
            .copied()
            .filter(|v| *v != self.id && *v != previous)
        {
            let Some(addr) = membership
                .get_node(&voter)
                .and_then(|n| n.addr.parse().ok())
            else {
                continue;
            };
            if let Some(ConsensusReply::LastAck(report)) = self
                .call_within(addr, ConsensusRequest::LastAck { term }, KEEPALIVE_TIMEOUT)
                .await
            {
                reports.push((voter, report, Instant::now()));
            }
        }
        handover::confirmations_end(&reports, voters.len())
    }

    async fn keep_alive(self: Arc<Self>) {
        let mut tick = tokio::time::interval(KEEPALIVE_EVERY);
        loop {
            tick.tick().await;
            if self.out_of_contact_too_long() {
                return;
            }
            let sent = Instant::now();
            let session = self.session();
            let renewal = if self.is_leader() {
                self.renew(session)
            } else if let Some(addr) = self.leader_addr() {
                match self
                    .call_within(
                        addr,
                        ConsensusRequest::KeepAlive { session },
                        KEEPALIVE_TIMEOUT,
                    )
                    .await
                {
                    Some(ConsensusReply::KeepAlive(renewal)) => renewal,
                    _ => Renewal::NotLeader,
                }
            } else {
                Renewal::NotLeader
            };
            match renewal {
                Renewal::Renewed { index } => {
                    // The lease must not outlive what this replica knows: wait (briefly) until
                    // it has applied what the leader had, or skip this renewal.
                    if self.catch_up(index, KEEPALIVE_EVERY).await {
                        let mut lease = self.lease.lock();
                        if lease.is_none_or(|until| until < sent + LEASE) {
                            *lease = Some(sent + LEASE);
                        }
                    }
                }
                Renewal::Ended => self.replace_ended_session().await,
                Renewal::NotLeader => {}
            }
        }
    }

    /// Waits up to `limit` for this replica to apply entry `index`.
    async fn catch_up(&self, index: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.replica.applied_index() < index {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Panics when the last renewal was sent longer ago than the panic timeout: cut off, or
    /// just resumed from a long freeze (checked before any new renewal can hide the gap).
    fn out_of_contact_too_long(&self) -> bool {
        if self.panic.reason().is_some() {
            return true;
        }
        if !self.in_service.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        let Some(until) = *self.lease.lock() else {
            return false;
        };
        let silent = Instant::now().saturating_duration_since(until - LEASE);
        if silent <= self.panic_timeout {
            return false;
        }
        let reason = format!(
            "no contact with the majority of the cluster for {} ms (cluster.panic.timeout.ms is {}); \
             this node stopped so as never to act beside the majority: restart it to rejoin",
            silent.as_millis(),
            self.panic_timeout.as_millis()
        );
        if self.panic.raise(reason.clone()) {
            tracing::error!(%reason, "cluster panic");
            self.waiters.fail_all(&reason);
        }
        true
    }

    /// Ends this node's session and has the leader take it out of the group, so that its locks
    /// pass on at once and the remaining voters keep a majority.
    pub async fn leave(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        let incarnation = self.view.snapshot().local.incarnation;
        self.in_service
            .store(false, std::sync::atomic::Ordering::Release);
        let close = Command::CloseSession {
            session: self.session(),
            reason: "its node closed".into(),
        };
        if let Err(e) = self.propose(close, deadline).await {
            tracing::warn!(error = %e, "could not end this node's lock session; the leader will expire it");
        }
        while Instant::now() < deadline && !self.is_alone() {
            let left = if self.is_leader() {
                self.remove_member(self.id, incarnation).await
            } else if let Some(addr) = self.leader_addr() {
                matches!(
                    self.call(
                        addr,
                        ConsensusRequest::Leave {
                            id: self.id,
                            incarnation
                        }
                    )
                    .await,
                    Some(ConsensusReply::Left(Ok(())))
                )
            } else {
                false
            };
            if left {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::debug!(error = %e, "Raft shutdown");
        }
    }

    /// Whether this node is the group's only member: nobody to hand anything to.
    fn is_alone(&self) -> bool {
        let metrics = self.raft.metrics().borrow().clone();
        let alone = metrics
            .membership_config
            .membership()
            .nodes()
            .all(|(id, _)| *id == self.id);
        alone
    }

    /// Leader side of a leave: the node gives up its vote (to a live learner if there is one)
    /// and its place in the group.
    async fn remove_member(&self, id: NodeId, incarnation: u64) -> bool {
        self.leader_state.lock().leaving.insert(id, incarnation);
        loop {
            let membership = self
                .raft
                .metrics()
                .borrow()
                .membership_config
                .membership()
                .clone();
            if membership.get_node(&id).is_none() {
                return true;
            }
            let change = match self.membership_change(&membership) {
                Some(change) => change,
                None if membership.voter_ids().any(|v| v == id) => return false,
                None => Change::Members(ChangeMembers::RemoveNodes(BTreeSet::from([id]))),
            };
            let done = match change {
                Change::AddLearner(learner, peer) => self
                    .raft
                    .add_learner(learner, peer, false)
                    .await
                    .map(|_| ()),
                Change::Members(change) => {
                    self.raft.change_membership(change, false).await.map(|_| ())
                }
            };
            if done.is_err() {
                return false;
            }
        }
    }

    async fn reconcile(self: Arc<Self>) {
        let mut tick = tokio::time::interval(RECONCILE_EVERY);
        loop {
            tick.tick().await;
            if self.is_leader() && self.confirmed_recently() {
                self.reconcile_once().await;
            }
        }
    }

    /// One round of the leader's duties: end sessions that stopped renewing, then at most one
    /// membership change.
    async fn reconcile_once(&self) {
        let metrics = self.raft.metrics().borrow().clone();
        let term = metrics.current_term;
        if self.leader_state.lock().term != term {
            let membership = metrics.membership_config.membership().clone();
            let start = Instant::now();
            let narrowed = self.earlier_confirmations_end(term, &membership).await;
            let mut state = self.leader_state.lock();
            state.term = term;
            // Keepalives renewed in this term count; older terms' do not (another leader may
            // have renewed those sessions since).
            state
                .keepalives
                .retain(|_, (renewed_in, _)| *renewed_in == term);
            state.down_since.clear();
            state.timers_from = Some(narrowed.map_or(start, |end| end.min(start)));
            if let Some(end) = narrowed {
                tracing::info!(term, since_ms = start.saturating_duration_since(end).as_millis() as u64, "session timers of the new term start when the previous leader was last confirmed");
            }
        }
        let expired = self.expired_sessions();
        for (session, silent) in expired {
            let reason = format!(
                "no keepalive for {} ms: its node is down or cut off",
                silent.as_millis()
            );
            tracing::warn!(session, %reason, "ending a lock session");
            let deadline = Instant::now() + RPC_TIMEOUT;
            if let Err(e) = self
                .propose(Command::CloseSession { session, reason }, deadline)
                .await
            {
                tracing::warn!(session, error = %e, "could not end a lock session");
            }
        }
        let membership = metrics.membership_config.membership().clone();
        if let Some(change) = self.membership_change(&membership) {
            tracing::info!(?change, "changing the consensus group's membership");
            let result = match change {
                Change::AddLearner(id, peer) => {
                    self.raft.add_learner(id, peer, false).await.map(|_| ())
                }
                Change::Members(change) => {
                    self.raft.change_membership(change, false).await.map(|_| ())
                }
            };
            if let Err(e) = result {
                tracing::info!(error = %e, "membership change not made");
            }
        }
    }

    /// Sessions of other nodes silent for longer than the expiry (see `silent_sessions`).
    fn expired_sessions(&self) -> Vec<(u64, Duration)> {
        let sessions = self.replica.read(CoordinationState::sessions);
        let opened_at = self.replica.sessions_opened_at();
        let mut state = self.leader_state.lock();
        let now = Instant::now();
        let from = state.timers_from.unwrap_or(now);
        state.keepalives.retain(|s, _| sessions.contains(s));
        let own = self.session();
        silent_sessions(&sessions, &state.keepalives, &opened_at, from, now)
            .into_iter()
            .filter(|(s, _)| *s != own)
            .collect()
    }

    fn membership_change(
        &self,
        membership: &openraft::Membership<NodeId, RaftPeer>,
    ) -> Option<Change> {
        let members = self.view.live_members();
        let incarnations: HashMap<NodeId, u64> =
            members.iter().map(|m| (m.raft_id, m.incarnation)).collect();
        let live: HashMap<NodeId, RaftPeer> = members
            .into_iter()
            .map(|m| {
                (
                    m.raft_id,
                    RaftPeer {
                        name: m.name,
                        addr: m.addr.to_string(),
                    },
                )
            })
            .collect();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let nodes: BTreeSet<NodeId> = membership.nodes().map(|(id, _)| *id).collect();
        let learners: BTreeSet<NodeId> = nodes.difference(&voters).copied().collect();
        let mut state = self.leader_state.lock();
        let now = Instant::now();
        state
            .leaving
            .retain(|id, left_as| match incarnations.get(id) {
                Some(now_as) => now_as == left_as,
                None => nodes.contains(id),
            });
        for id in &nodes {
            if live.contains_key(id) && !state.leaving.contains_key(id) {
                state.down_since.remove(id);
            } else {
                state.down_since.entry(*id).or_insert(now);
            }
        }
        let dead = |id: &NodeId| {
            state.leaving.contains_key(id)
                || state
                    .down_since
                    .get(id)
                    .is_some_and(|t| now - *t > REPLACE_AFTER)
        };
        if let Some((id, peer)) = live
            .iter()
            .find(|(id, _)| !nodes.contains(id) && !state.leaving.contains_key(id))
        {
            return Some(Change::AddLearner(*id, peer.clone()));
        }
        let ready: Vec<NodeId> = learners
            .iter()
            .copied()
            .filter(|l| !dead(l) && live.contains_key(l))
            .collect();
        if let Some(gone) = voters.iter().copied().find(|v| dead(v)) {
            let mut next: BTreeSet<NodeId> =
                voters.iter().copied().filter(|v| *v != gone).collect();
            if let Some(replacement) = ready.first() {
                next.insert(*replacement);
                return Some(Change::Members(ChangeMembers::ReplaceAllVoters(next)));
            }
            if state.leaving.contains_key(&gone) && !next.is_empty() {
                return Some(Change::Members(ChangeMembers::ReplaceAllVoters(next)));
            }
        }
        if voters.len() < self.voters {
            if let Some(learner) = ready.first() {
                return Some(Change::Members(ChangeMembers::AddVoterIds(BTreeSet::from(
                    [*learner],
                ))));
            }
        }
        let dead_learners: BTreeSet<NodeId> =
            learners.iter().copied().filter(|l| dead(l)).collect();
        if !dead_learners.is_empty() {
            return Some(Change::Members(ChangeMembers::RemoveNodes(dead_learners)));
        }
        None
    }
}

/// The sessions silent for longer than `SESSION_EXPIRY` at `now`, with how long. A session is
/// timed from the last keepalive this leader renewed for it; without one, from `from` (this
/// term's start, or the last confirmation of the previous leader) or from when this replica
/// applied its opening, whichever is later. A session opened after the term began has been
/// silent only since it opened: timing it from the term's start ended the session of a node
/// that joined more than the expiry after the election before that node, not yet a member of
/// the group, could send its first keepalive, and the node never finished starting. Starting a
/// timer later only ever delays an expiry, so the lease argument (timing.rs) is unchanged.
fn silent_sessions(
    sessions: &BTreeSet<u64>,
    keepalives: &HashMap<u64, (u64, Instant)>,
    opened_at: &HashMap<u64, Instant>,
    from: Instant,
    now: Instant,
) -> Vec<(u64, Duration)> {
    sessions
        .iter()
        .filter_map(|s| {
            let last = match keepalives.get(s) {
                Some((_, at)) => *at,
                None => opened_at.get(s).map_or(from, |opened| from.max(*opened)),
            };
            let silent = now.saturating_duration_since(last);
            (silent > SESSION_EXPIRY).then_some((*s, silent))
        })
        .collect()
}

/// A snapshot chunk that would grow the snapshot being received past what a state machine may
/// hold is refused before openraft writes it at its offset (a made-up offset would otherwise
/// allocate that much memory).
fn refuse_chunk(
    rpc: &openraft::raft::InstallSnapshotRequest<types::TypeConfig>,
) -> Option<InstallSnapshotError> {
    let end = rpc.offset.saturating_add(rpc.data.len() as u64);
    if end <= MAX_SNAPSHOT_BYTES as u64 {
        return None;
    }
    tracing::warn!(error = %LimitError::Snapshot { end }, "refused a snapshot chunk");
    let segment = |offset| SnapshotSegmentId {
        id: rpc.meta.snapshot_id.clone(),
        offset,
    };
    Some(InstallSnapshotError::SnapshotMismatch(SnapshotMismatch {
        expect: segment(0),
        got: segment(rpc.offset),
    }))
}

#[derive(Debug)]
enum Change {
    AddLearner(NodeId, RaftPeer),
    Members(ChangeMembers<NodeId, RaftPeer>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opened_after_the_term_began_is_timed_from_its_opening() {
        let long_ago = Instant::now();
        let term_start = long_ago + Duration::from_secs(60);
        let now = term_start + SESSION_EXPIRY + Duration::from_secs(5);
        let (old, joiner, renewed) = (1, 2, 3);
        let sessions = BTreeSet::from([old, joiner, renewed]);
        let keepalives = HashMap::from([(renewed, (1, now - Duration::from_millis(200)))]);
        // The joiner's session opened moments ago, long after the term began; the old one
        // opened before it (a session that came in a snapshot has no opening time at all).
        let opened_at =
            HashMap::from([(old, long_ago), (joiner, now - Duration::from_millis(100))]);
        let expired = silent_sessions(&sessions, &keepalives, &opened_at, term_start, now);
        assert_eq!(
            expired,
            vec![(old, SESSION_EXPIRY + Duration::from_secs(5))],
            "only the session silent since the term began expires"
        );
        let unknown = HashMap::new();
        let expired = silent_sessions(&sessions, &keepalives, &unknown, term_start, now);
        assert_eq!(
            expired.len(),
            2,
            "without an opening time, from the term's start"
        );
        let later = now + SESSION_EXPIRY;
        let expired: Vec<u64> =
            silent_sessions(&sessions, &keepalives, &opened_at, term_start, later)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        assert_eq!(
            expired,
            vec![old, joiner, renewed],
            "silence ends every session"
        );
    }
}
