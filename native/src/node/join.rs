//! Joining through the seeds, so that nodes given the same seed list, started in any order or
//! all at once, end in one cluster.
//!
//! A node joins through any seed that is already a member. When no seed is a member yet, only
//! the seed with the lowest address forms the cluster; the others wait for it. If the lower
//! seeds stay unreachable for `FORM_GRACE`, the lowest reachable seed forms instead, so one dead
//! seed cannot keep the cluster from starting. A node that is not itself a seed only joins.
//!
//! A refusal (another app version, a name in use, a secret that fails the handshake) ends the
//! start only when every seed refuses in the same round: one address answered by a stranger, or
//! by a node of another cluster, must not keep this node out of the cluster its other seeds
//! form. What a peer says reaches the exception cleaned (`wire::peer_text`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Shared;
use crate::error::{ClusterError, Result};
use crate::membership::NodeIdentity;
use crate::transport::{self, StreamError};
use crate::wire::{self, Body, Frame, Hello, Welcome};

const FORM_GRACE: Duration = Duration::from_secs(3);
const RETRY: Duration = Duration::from_millis(200);
/// How long a seed that welcomed us may take to show up in our own membership view.
const SETTLE: Duration = Duration::from_secs(5);

enum Answer {
    Member(Welcome),
    NotYetMember(SocketAddr),
    Unreachable(String),
    /// Refused this node, or failed the handshake: final only if every seed answers so.
    Refused(String),
}

/// How this node became a member.
pub enum Joined {
    /// It formed a new cluster.
    Formed,
    /// It joined an existing one, whose consensus group is `group`.
    Through { group: u64 },
}

pub async fn join(shared: &Shared) -> Result<Joined> {
    let config = &shared.config;
    let local = shared.view.snapshot().local.clone();
    let others: Vec<SocketAddr> = config
        .seeds
        .iter()
        .copied()
        .filter(|s| *s != local.addr)
        .collect();
    let is_seed = config.seeds.is_empty() || config.seeds.contains(&local.addr);
    let lowest_seed = config.seeds.iter().all(|s| local.addr <= *s);
    if others.is_empty() {
        return form(shared, &local);
    }
    let started = Instant::now();
    let deadline = started + config.join_timeout;
    let mut last_problem = String::from("no seed answered");
    loop {
        let mut reachable = Vec::new();
        let mut refusals = Vec::new();
        for answer in ask_all(shared, &local, &others).await {
            match answer {
                Answer::Member(welcome) => {
                    let group = welcome.group;
                    if settle(shared, welcome, deadline).await {
                        tracing::info!(node = %local.name, "joined the cluster");
                        return Ok(Joined::Through { group });
                    }
                }
                Answer::NotYetMember(seed) => reachable.push(seed),
                Answer::Unreachable(problem) => last_problem = problem,
                Answer::Refused(reason) => refusals.push(reason),
            }
        }
        if !refusals.is_empty() && refusals.len() == others.len() {
            return Err(ClusterError::Refused(refusals.join("; ")));
        }
        if let Some(refusal) = refusals.pop() {
            last_problem = refusal;
        }
        let lowest_reachable = reachable.iter().all(|s| local.addr < *s);
        if is_seed && lowest_reachable && (lowest_seed || started.elapsed() >= FORM_GRACE) {
            return form(shared, &local);
        }
        if Instant::now() >= deadline {
            return Err(ClusterError::JoinTimeout(format!(
                "node '{}' could not join cluster '{}' through the seeds {:?} within {} ms \
                 (cluster.join.timeout.ms); last problem: {last_problem}",
                local.name,
                config.cluster_name,
                config.seeds,
                config.join_timeout.as_millis()
            )));
        }
        let jitter = Duration::from_millis(rand::random_range(0..100));
        tokio::time::sleep(RETRY + jitter).await;
    }
}

fn form(shared: &Shared, local: &NodeIdentity) -> Result<Joined> {
    tracing::info!(node = %local.name, cluster = %shared.config.cluster_name, "formed the cluster as its first member");
    Ok(Joined::Formed)
}

/// Asks every seed at once.
async fn ask_all(shared: &Shared, local: &NodeIdentity, seeds: &[SocketAddr]) -> Vec<Answer> {
    let mut asks = JoinSet::new();
    for seed in seeds.iter().copied() {
        let hello = Frame::new(Body::Hello(Hello {
            cluster_name: shared.config.cluster_name.clone(),
            node: local.clone(),
            clock_ms: crate::clocks::now_millis(),
        }));
        let keys = shared.keys.clone();
        let faults = shared.faults.clone();
        asks.spawn(async move { (seed, transport::request(seed, &keys, &faults, &hello).await) });
    }
    let mut answers = Vec::new();
    while let Some(done) = asks.join_next().await {
        let Ok((seed, reply)) = done else { continue };
        answers.push(classify(seed, reply));
    }
    answers
}

fn classify(seed: SocketAddr, reply: std::result::Result<Frame, StreamError>) -> Answer {
    match reply {
        Ok(Frame {
            body: Body::Welcome(w),
            ..
        }) if w.is_member => Answer::Member(w),
        Ok(Frame {
            body: Body::Welcome(_),
            ..
        }) => Answer::NotYetMember(seed),
        Ok(Frame {
            body: Body::Refused { reason },
            ..
        }) => Answer::Refused(format!(
            "seed {seed} refused this node: {}",
            wire::peer_text(&reason)
        )),
        Ok(other) => Answer::Unreachable(format!("{seed} answered {}", other.body.kind())),
        Err(StreamError::RefusedByPeer(reason)) => {
            Answer::Refused(format!("seed {seed} refused this node: {reason}"))
        }
        Err(StreamError::Unauthenticated) => Answer::Refused(format!(
            "seed {seed} failed the handshake: the cluster secret or cluster name differs"
        )),
        Err(e) => Answer::Unreachable(format!("{seed}: {e}")),
    }
}

/// Announces this node to the members a seed listed and waits until the seed shows as live.
async fn settle(shared: &Shared, welcome: Welcome, deadline: Instant) -> bool {
    let mut targets = welcome.members;
    targets.retain(|m| m.name != welcome.responder.name);
    targets.push(welcome.responder.clone());
    shared.membership.announce(targets).await;
    let until = deadline.min(Instant::now() + SETTLE);
    let mut changes = shared.view.subscribe();
    loop {
        if shared.view.is_live(&welcome.responder.name) {
            return true;
        }
        if tokio::time::timeout_at(until, changes.changed())
            .await
            .is_err()
        {
            return false;
        }
    }
}

/// Keeps asking the seeds that are not in the view, so that a cluster split at start-up or by
/// a long partition merges back into one membership.
pub async fn watch_seeds(shared: std::sync::Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        let snapshot = shared.view.snapshot();
        let live: Vec<SocketAddr> = shared.view.live_members().iter().map(|m| m.addr).collect();
        let missing: Vec<SocketAddr> = shared
            .config
            .seeds
            .iter()
            .copied()
            .filter(|s| !live.contains(s))
            .collect();
        if missing.is_empty() {
            continue;
        }
        for answer in ask_all(&shared, &snapshot.local, &missing).await {
            if let Answer::Member(welcome) = answer {
                let mut targets = welcome.members;
                targets.push(welcome.responder);
                shared.membership.announce(targets).await;
            }
        }
    }
}
