//! Raft replication bounded by bytes, and the limits on what gets into the log, on real nodes in
//! one process: a follower cut off while 20 MB of queue items were offered catches up after the
//! heal, through AppendEntries requests cut to the replication message size, or through a
//! snapshot sent in chunks once the log it missed was purged; an offer past the limit is refused
//! by the node API, and by the leader when a peer sends it.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use openmrs_cluster::consensus::{ConsensusReply, ConsensusRequest};
use openmrs_cluster::coordination::Command;
use openmrs_cluster::transport::{ChannelPool, Faults};
use openmrs_cluster::wire::{Body, Frame};
use openmrs_cluster::{ClusterError, Node, NodeConfig};

fn secured(c: &mut NodeConfig) {
    c.raft_voters = 3;
    // The cut-off follower must not panic while the others are busy: it is to catch up.
    c.panic_timeout = Duration::from_secs(120);
}

fn leader_and_follower(nodes: &[Node]) -> (usize, usize) {
    let all: Vec<&Node> = nodes.iter().collect();
    wait_for("a leader", Duration::from_secs(10), || {
        leader_index(&all).is_some()
    });
    let leader = leader_index(&all).expect("a leader");
    (leader, (leader + 1) % nodes.len())
}

/// Cuts `follower` off, offers `count` items of `size` bytes on the leader, heals, and returns
/// how long the follower's replica took to hold them all.
fn catch_up_after_offers(ip_last: u8, count: usize, size: usize) -> Duration {
    let nodes = start_cluster_with(loopback(ip_last), 3, secured);
    let (leader, follower) = leader_and_follower(&nodes);
    let others: Vec<&Node> = (0..3)
        .filter(|i| *i != follower)
        .map(|i| &nodes[i])
        .collect();
    partition(&[&nodes[follower]], &others);
    let offered = Instant::now();
    for n in 0..count {
        let mut item = vec![(n % 251) as u8; size];
        item[..8].copy_from_slice(&(n as u64).to_be_bytes());
        nodes[leader].queue_offer("big", &item).expect("offered");
    }
    println!(
        "{count} items of {size} bytes offered in {:?} while a follower was cut off",
        offered.elapsed()
    );
    assert!(nodes[follower].queue_size("big").unwrap() < count as u64);
    for node in &nodes {
        node.faults().heal();
    }
    let took = wait_for(
        "the follower's replica to hold every item",
        Duration::from_secs(60),
        || nodes[follower].queue_size("big").unwrap() == count as u64,
    );
    println!("the follower caught up {took:?} after the heal");
    // And it serves them, in order, once it has a lease again (its session ended while it was
    // cut off, so it opens a new one).
    let mut claimed = None;
    wait_for(
        "the follower to claim an item",
        Duration::from_secs(30),
        || {
            match nodes[follower].queue_poll("big", Duration::from_millis(100)) {
                Ok(found) => claimed = found,
                Err(ClusterError::LostMajority(_)) => {}
                Err(e) => panic!("{e}"),
            }
            claimed.is_some()
        },
    );
    let (id, first) = claimed.expect("an item");
    assert_eq!(first.len(), size);
    assert_eq!(first[..8], 0u64.to_be_bytes());
    assert!(nodes[follower].queue_settle("big", id, false).unwrap());
    took
}

#[test]
fn a_follower_cut_off_while_20_mb_were_offered_catches_up_through_append_entries() {
    let took = catch_up_after_offers(100, 200, 100 * 1024);
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn a_follower_behind_the_purged_log_catches_up_through_a_chunked_snapshot() {
    // Past 1000 entries the leader snapshots (20 MB of queue items) and purges the log the
    // follower missed: only the snapshot can bring it up to date.
    let took = catch_up_after_offers(101, 1200, 17 * 1024);
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

/// Sends a consensus request to `addr` as a peer holding the cluster's key would.
async fn as_a_peer(
    pool: &ChannelPool,
    addr: SocketAddr,
    group: u64,
    request: ConsensusRequest,
) -> ConsensusReply {
    let frame = Frame::new(Body::Consensus {
        group,
        request: Box::new(request),
    });
    match pool.call(addr, &frame, Duration::from_secs(10)).await {
        Ok(Frame {
            body: Body::ConsensusReply(reply),
            ..
        }) => *reply,
        other => panic!("no consensus reply: {other:?}"),
    }
}

#[test]
fn an_offer_past_the_limit_is_refused_by_the_node_and_by_the_leader() {
    let ip = loopback(102);
    let nodes = start_cluster_with(ip, 3, secured);
    let (leader, _) = leader_and_follower(&nodes);
    let e = nodes[0]
        .queue_offer("hl7", &vec![7; 17 * 1024 * 1024])
        .unwrap_err();
    assert!(matches!(e, ClusterError::Limit(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "queue item of 17825792 bytes is over the limit of 1048576 bytes (queue 'hl7')"
    );

    // A peer with the key that skips its own checks (another build, or one that misbehaves)
    // sends the leader an offer of 2 MiB: under the frame limit, over the item limit.
    // As one of the members (the leader takes frames from members only, itself not among them).
    let pool = ChannelPool::new(
        keys_as(&format!("n{}", (leader + 1) % 3)),
        Faults::default(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = nodes[leader].address();
    let reply = runtime.block_on(async {
        let group = match as_a_peer(&pool, addr, 0, ConsensusRequest::LastAck { term: 0 }).await {
            ConsensusReply::WrongGroup { theirs } => theirs,
            other => panic!("expected the group in a refusal, got {other:?}"),
        };
        let offer = Command::Offer {
            queue: "hl7".into(),
            payload: vec![7; 2 * 1024 * 1024],
        };
        as_a_peer(&pool, addr, group, ConsensusRequest::Propose(offer)).await
    });
    match reply {
        ConsensusReply::Proposed(Err(refused)) => assert!(
            refused.to_string().contains(
                "queue item of 2097152 bytes is over the limit of 1048576 bytes (queue 'hl7')"
            ),
            "{refused}"
        ),
        other => panic!("the leader proposed it: {other:?}"),
    }
    for node in &nodes {
        assert_eq!(node.queue_size("hl7").unwrap(), 0);
    }
}
