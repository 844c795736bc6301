//! Queues, singleton schedules and cluster panic (locks and cache writes refused, cache reads
//! served) on real nodes in one process.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use openmrs_cluster::cache::Mode;
use openmrs_cluster::{ClusterError, Node};

fn item(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn number(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().expect("4 bytes"))
}

#[test]
fn a_single_consumer_claims_in_offer_order() {
    let nodes = start_cluster(loopback(40), 3, 3);
    for n in 0..20 {
        nodes[0].queue_offer("q", &item(n)).unwrap();
    }
    for n in 0..20 {
        let (id, payload) = nodes[1]
            .queue_poll("q", Duration::from_secs(1))
            .unwrap()
            .expect("an item");
        assert_eq!(number(&payload), n);
        assert!(nodes[1].queue_settle("q", id, true).unwrap());
    }
    assert_eq!(
        nodes[1]
            .queue_poll("q", Duration::from_millis(100))
            .unwrap(),
        None
    );
}

#[test]
fn a_poll_wakes_on_an_offer() {
    let nodes = start_cluster(loopback(41), 3, 3);
    thread::scope(|s| {
        let poller = s.spawn(|| {
            let start = Instant::now();
            let got = nodes[1].queue_poll("q", Duration::from_secs(5)).unwrap();
            (got, start.elapsed())
        });
        thread::sleep(Duration::from_millis(300));
        nodes[2].queue_offer("q", &item(7)).unwrap();
        let (got, took) = poller.join().unwrap();
        assert_eq!(number(&got.expect("the offer").1), 7);
        println!("a waiting poll got an offer {took:?} after it began (offer at 300 ms)");
        assert!(took < Duration::from_secs(2));
    });
}

#[test]
fn items_claimed_by_a_crashed_node_are_not_lost() {
    let nodes = start_cluster(loopback(42), 3, 3);
    let total = 150;
    for n in 0..total {
        nodes[0].queue_offer("hl7", &item(n)).unwrap();
    }
    // The node that will crash claims a few items and never acknowledges them.
    let victim = 2;
    for _ in 0..5 {
        nodes[victim]
            .queue_poll("hl7", Duration::from_secs(1))
            .unwrap()
            .expect("an item");
    }
    let crashed = Instant::now();
    nodes[victim].halt();
    let acked = Arc::new(Mutex::new(Vec::new()));
    thread::scope(|s| {
        for consumer in [&nodes[0], &nodes[1]] {
            let acked = Arc::clone(&acked);
            s.spawn(move || {
                while let Some((id, payload)) =
                    consumer.queue_poll("hl7", Duration::from_secs(6)).unwrap()
                {
                    assert!(consumer.queue_settle("hl7", id, true).unwrap());
                    acked.lock().unwrap().push(number(&payload));
                }
            });
        }
    });
    let acked = acked.lock().unwrap().clone();
    let distinct: BTreeSet<u32> = acked.iter().copied().collect();
    println!(
        "all items acknowledged {:?} after the crash",
        crashed.elapsed()
    );
    assert_eq!(acked.len(), total as usize, "every item once");
    assert_eq!(distinct.len(), total as usize);
    assert_eq!(nodes[0].queue_size("hl7").unwrap(), 0);
}

/// Every node ticks the schedule each period as the Java scheduler does; returns the periods
/// each node ran, in order.
fn tick(nodes: &[&Node], name: &str, periods: std::ops::Range<u64>) -> Vec<(usize, u64)> {
    let mut runs = Vec::new();
    for period in periods {
        for (i, node) in nodes.iter().enumerate() {
            if node.schedule_owned(name) && node.schedule_run(name, period, 1000).unwrap() {
                runs.push((i, period));
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
    runs
}

#[test]
fn a_schedule_runs_each_period_once_and_moves_when_its_owner_dies() {
    let nodes = start_cluster(loopback(43), 3, 3);
    for n in &nodes {
        n.schedule_join("sync").unwrap();
    }
    let all: Vec<&Node> = nodes.iter().collect();
    let before = tick(&all, "sync", 0..10);
    assert_eq!(before.len(), 10, "each period once: {before:?}");
    let owner = before[0].0;
    assert!(before.iter().all(|(i, _)| *i == owner));
    nodes[owner].halt();
    let survivors: Vec<&Node> = (0..3).filter(|i| *i != owner).map(|i| &nodes[i]).collect();
    let started = Instant::now();
    wait_for("a new owner", Duration::from_secs(10), || {
        survivors.iter().any(|n| n.schedule_owned("sync"))
    });
    println!(
        "the schedule moved {:?} after its owner crashed",
        started.elapsed()
    );
    let after = tick(&survivors, "sync", 10..20);
    assert_eq!(
        after.len(),
        10,
        "each period once after the takeover: {after:?}"
    );
    // A period that already ran is refused even to the new owner.
    let new_owner = survivors.iter().find(|n| n.schedule_owned("sync")).unwrap();
    assert!(!new_owner.schedule_run("sync", 5, 1000).unwrap());
}

#[test]
fn a_node_cut_off_from_the_majority_panics_and_the_majority_goes_on() {
    let ip = loopback(44);
    let addrs: Vec<_> = (0..3).map(|_| free_addr(ip)).collect();
    let nodes: Vec<Node> = (0..3)
        .map(|i| {
            let mut c = config(&format!("p{i}"), addrs[i], &addrs);
            c.panic_timeout = Duration::from_millis(3000);
            Node::start(c).unwrap()
        })
        .collect();
    let refs: Vec<&Node> = nodes.iter().collect();
    let leader = leader_index(&refs).expect("a leader");
    let cut = (leader + 1) % 3;
    let rest: Vec<&Node> = (0..3).filter(|i| *i != cut).map(|i| &nodes[i]).collect();
    let wait = Duration::from_secs(5);
    let cache = nodes[cut]
        .cache_open("c", Mode::Replicated, None, None, wait)
        .unwrap();
    nodes[cut]
        .cache_put(cache, Bytes::from_static(b"k"), Bytes::from_static(b"v"))
        .unwrap();
    let started = Instant::now();
    partition(&[&nodes[cut]], &rest);
    let reason = nodes[cut]
        .panic_wait(Duration::from_secs(8))
        .expect("the cut-off node panics");
    let took = started.elapsed();
    println!("the cut-off node panicked {took:?} after the cut: {reason}");
    assert!(
        took < Duration::from_millis(3000 + 1000 + 500),
        "took {took:?}"
    );
    assert!(matches!(
        nodes[cut].lock_try("l", 1),
        Err(ClusterError::Panicked(_))
    ));
    assert!(
        rest[0].lock_try("l", 1).unwrap().is_some(),
        "the majority goes on"
    );
    assert!(
        matches!(
            nodes[cut].cache_put(cache, Bytes::from_static(b"k"), Bytes::from_static(b"w")),
            Err(ClusterError::Panicked(_))
        ),
        "a panicked node refuses cache writes"
    );
    let (_, value) = nodes[cut]
        .cache_get(cache, b"k")
        .unwrap()
        .expect("reads go on");
    assert_eq!(&value[..], b"v");
    assert!(rest.iter().all(|n| n.panic_wait(Duration::ZERO).is_none()));
    for n in &nodes {
        n.faults().heal();
    }
    thread::sleep(Duration::from_secs(1));
    assert!(
        matches!(nodes[cut].lock_try("m", 1), Err(ClusterError::Panicked(_))),
        "stays down after healing"
    );
}

#[test]
fn the_last_node_left_panics() {
    let nodes = start_cluster(loopback(45), 3, 3);
    let started = Instant::now();
    nodes[0].halt();
    nodes[1].halt();
    let reason = nodes[2]
        .panic_wait(Duration::from_secs(10))
        .expect("panics");
    println!(
        "the last node panicked {:?} after the others died: {reason}",
        started.elapsed()
    );
}

/// Reported from Java: after a queue was drained (offered, claimed and acknowledged), a fourth
/// node never finished starting. What mattered was the time since the leader's election, which
/// the drain let pass: the leader timed the joiner's new session from the start of its term, so
/// once more than the session expiry had passed, it ended the session before the joiner (not yet
/// in the consensus group) could send a keepalive, and the joiner waited for it until the join
/// timeout.
#[test]
fn a_node_joins_after_a_queue_was_drained() {
    let ip = loopback(70);
    let addrs: Vec<_> = (0..4).map(|_| free_addr(ip)).collect();
    let nodes: Vec<Node> = (0..3)
        .map(|i| Node::start(config(&format!("j{i}"), addrs[i], &addrs)).unwrap())
        .collect();
    let formed = Instant::now();
    let total = 12;
    for n in 0..total {
        nodes[0].queue_offer("q", &item(n)).unwrap();
    }
    let acked = Arc::new(Mutex::new(Vec::new()));
    thread::scope(|s| {
        for consumer in [&nodes[1], &nodes[2]] {
            let acked = Arc::clone(&acked);
            s.spawn(move || {
                while let Some((id, payload)) =
                    consumer.queue_poll("q", Duration::from_secs(1)).unwrap()
                {
                    assert!(consumer.queue_settle("q", id, true).unwrap());
                    acked.lock().unwrap().push(number(&payload));
                }
            });
        }
    });
    assert_eq!(acked.lock().unwrap().len(), total as usize);
    // However fast the drain was, let more than the session expiry (2.3 s) pass since the election.
    if let Some(left) = Duration::from_secs(4).checked_sub(formed.elapsed()) {
        thread::sleep(left);
    }
    let started = Instant::now();
    let fourth = Node::start(config("j3", addrs[3], &addrs)).expect("the fourth node starts");
    println!("the fourth node started in {:?}", started.elapsed());
    assert_eq!(fourth.queue_size("q").unwrap(), 0);
    nodes[0].queue_offer("q", &item(99)).unwrap();
    wait_for("the fourth node's replica", Duration::from_secs(5), || {
        fourth.queue_size("q").unwrap() == 1
    });
    let (_, payload) = fourth
        .queue_poll("q", Duration::from_secs(1))
        .unwrap()
        .expect("the new item");
    assert_eq!(number(&payload), 99);
}
