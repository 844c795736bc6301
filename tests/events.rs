//! Events across nodes in one process: every node's subscribers get every publisher's messages
//! once and in order, with loss, a cut link and a halted node, and on a topic subscribed to
//! after its publisher learned what the node subscribes to.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use openmrs_cluster::Node;
use parking_lot::Mutex;

const TOPIC: &str = "test.topic";

/// Records, in delivery order, what one subscription of `node` receives.
struct Collector {
    seen: Arc<Mutex<Vec<String>>>,
    /// Ends when its node closes.
    _thread: JoinHandle<()>,
}

impl Collector {
    fn subscribe(node: &Arc<Node>) -> Collector {
        Collector::subscribe_to(node, TOPIC)
    }

    fn subscribe_to(node: &Arc<Node>, topic: &str) -> Collector {
        let id = node.events_subscribe(topic, 1_000_000).expect("subscribe");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (node, sink) = (Arc::clone(node), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            while let Ok(Some(batch)) = node.events_poll(id, Duration::from_millis(100), 1024) {
                let mut sink = sink.lock();
                sink.extend(
                    batch
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned()),
                );
            }
        });
        Collector {
            seen,
            _thread: thread,
        }
    }

    fn count(&self) -> usize {
        self.seen.lock().len()
    }

    /// Per publisher, the sequence numbers in the order they were delivered.
    fn by_publisher(&self) -> BTreeMap<String, Vec<u64>> {
        let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for m in self.seen.lock().iter() {
            let (publisher, i) = m.split_once(':').expect("payload is publisher:i");
            out.entry(publisher.to_string())
                .or_default()
                .push(i.parse().expect("a number"));
        }
        out
    }

    /// Asserts each publisher's messages `expected` arrived exactly once, in that order.
    fn assert_exactly(
        &self,
        who: &str,
        publishers: &[&str],
        expected: impl Iterator<Item = u64> + Clone,
    ) {
        let got = self.by_publisher();
        for p in publishers {
            let expected: Vec<u64> = expected.clone().collect();
            let seq = got.get(*p).cloned().unwrap_or_default();
            assert!(
                seq == expected,
                "{who} got from {p} {} messages, first out of place: {:?}",
                seq.len(),
                seq.iter().zip(&expected).position(|(a, b)| a != b)
            );
        }
        assert_eq!(
            got.len(),
            publishers.len(),
            "{who}: publishers {:?}",
            got.keys()
        );
    }
}

fn arc(nodes: Vec<Node>) -> Vec<Arc<Node>> {
    nodes.into_iter().map(Arc::new).collect()
}

fn await_members(nodes: &[Arc<Node>], n: usize) {
    wait_for(
        "every node to see all members",
        Duration::from_secs(15),
        || nodes.iter().all(|node| names(node).len() == n),
    );
}

/// Each node in `nodes` publishes `range` as "<name>:<i>", all at once, from its own thread.
fn publish_all(nodes: &[Arc<Node>], range: std::ops::Range<u64>) {
    publish_all_to(nodes, &[TOPIC], range)
}

/// As `publish_all`, each message to every topic of `topics` in turn.
fn publish_all_to(nodes: &[Arc<Node>], topics: &[&'static str], range: std::ops::Range<u64>) {
    let threads: Vec<_> = nodes
        .iter()
        .map(|node| {
            let (node, range, topics) = (Arc::clone(node), range.clone(), topics.to_vec());
            std::thread::spawn(move || {
                for i in range {
                    for topic in &topics {
                        let payload = format!("{}:{i}", node.name()).into_bytes();
                        node.events_publish(topic, payload).expect("publish");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("publisher thread");
    }
}

fn await_counts(collectors: &[Collector], n: usize, limit: Duration) {
    wait_for(&format!("{n} messages at every node"), limit, || {
        collectors.iter().all(|c| c.count() >= n)
    });
    // Anything more would be a duplicate: give it a moment to show up.
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn every_node_gets_every_publishers_messages_once_in_order() {
    let nodes = arc(start_cluster(loopback(40), 3, 3));
    await_members(&nodes, 3);
    let collectors: Vec<Collector> = nodes.iter().map(Collector::subscribe).collect();
    publish_all(&nodes, 0..3000);
    await_counts(&collectors, 9000, Duration::from_secs(30));
    for (node, c) in nodes.iter().zip(&collectors) {
        c.assert_exactly(node.name(), &["n0", "n1", "n2"], 0..3000);
    }
}

#[test]
fn loss_and_a_cut_link_neither_lose_nor_repeat_nor_reorder() {
    let nodes = arc(start_cluster(loopback(41), 3, 3));
    await_members(&nodes, 3);
    let collectors: Vec<Collector> = nodes.iter().map(Collector::subscribe).collect();
    for node in &nodes {
        node.faults().set_loss(0.2);
    }
    publish_all(&nodes, 0..500);
    partition(&[&nodes[0]], &[&nodes[1], &nodes[2]]);
    publish_all(&nodes, 500..1000);
    std::thread::sleep(Duration::from_millis(700));
    for node in &nodes {
        node.faults().heal();
    }
    publish_all(&nodes, 1000..1500);
    await_counts(&collectors, 4500, Duration::from_secs(30));
    for (node, c) in nodes.iter().zip(&collectors) {
        c.assert_exactly(node.name(), &["n0", "n1", "n2"], 0..1500);
    }
}

#[test]
fn a_halted_node_does_not_stall_the_others() {
    let nodes = arc(start_cluster(loopback(42), 3, 3));
    await_members(&nodes, 3);
    let collectors: Vec<Collector> = nodes[..2].iter().map(Collector::subscribe).collect();
    nodes[2].halt();
    let start = Instant::now();
    publish_all(&nodes[..2], 0..2000);
    let published = start.elapsed();
    await_counts(&collectors, 4000, Duration::from_secs(10));
    for (node, c) in nodes.iter().zip(&collectors) {
        c.assert_exactly(node.name(), &["n0", "n1"], 0..2000);
    }
    // Publishing only queues: a dead peer costs the publisher nothing it would wait on.
    assert!(
        published < Duration::from_secs(5),
        "publishing took {published:?}"
    );
}

#[test]
fn a_joiner_gets_what_is_published_after_it_joined() {
    let ip = loopback(43);
    let addrs: Vec<_> = (0..3).map(|_| free_addr(ip)).collect();
    let start = |i: usize| {
        let mut c = config(&format!("n{i}"), addrs[i], &addrs);
        c.raft_voters = 3;
        Arc::new(Node::start(c).expect("node starts"))
    };
    let mut nodes = vec![start(0), start(1)];
    await_members(&nodes, 2);
    let early: Vec<Collector> = nodes.iter().map(Collector::subscribe).collect();
    publish_all(&nodes, 0..100);
    await_counts(&early, 200, Duration::from_secs(10));
    nodes.push(start(2));
    await_members(&nodes, 3);
    let joiner = vec![Collector::subscribe(&nodes[2])];
    publish_all(&nodes[..2], 100..200);
    await_counts(&joiner, 200, Duration::from_secs(10));
    joiner[0].assert_exactly("n2", &["n0", "n1"], 100..200);
}

/// Peers send a node the messages of topics it has no subscriber for lazily, in batches: a
/// subscription made after they learned that must still get everything published after it, in
/// order, alone or mixed with messages they send at once.
#[test]
fn a_new_subscription_gets_what_is_published_after_it() {
    const OTHER: &str = "test.other";
    let nodes = arc(start_cluster(loopback(44), 2, 2));
    await_members(&nodes, 2);
    let other = vec![Collector::subscribe_to(&nodes[1], OTHER)];
    // More than n0 sends before it asks for an acknowledgement, whose answer says that n1
    // wants OTHER only.
    publish_all_to(&nodes[..1], &[OTHER], 0..300);
    await_counts(&other, 300, Duration::from_secs(10));
    let late = vec![Collector::subscribe(&nodes[1])];
    publish_all_to(&nodes[..1], &[TOPIC], 0..10);
    await_counts(&late, 10, Duration::from_secs(10));
    publish_all_to(&nodes[..1], &[OTHER, TOPIC], 300..1300);
    await_counts(&late, 1010, Duration::from_secs(10));
    late[0].assert_exactly("n1", &["n0"], (0..10).chain(300..1300));
    other[0].assert_exactly("n1", &["n0"], 0..1300);
}
