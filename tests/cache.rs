//! Replicated caches across nodes in one process: writes reach every node, concurrent writes
//! converge, a joiner starts warm, INVALIDATION drops what another node overwrote, and a cut
//! link delays writes without losing them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use openmrs_cluster::cache::Mode;
use openmrs_cluster::Node;

const WAIT: Duration = Duration::from_secs(10);

fn open(nodes: &[Arc<Node>], name: &str, mode: Mode) -> Vec<u64> {
    nodes
        .iter()
        .map(|n| n.cache_open(name, mode, None, None, WAIT).expect("open"))
        .collect()
}

fn value(node: &Node, cache: u64, key: &str) -> Option<String> {
    node.cache_get(cache, key.as_bytes())
        .expect("get")
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

fn put(node: &Node, cache: u64, key: &str, value: &str) {
    node.cache_put(
        cache,
        Bytes::copy_from_slice(key.as_bytes()),
        Bytes::copy_from_slice(value.as_bytes()),
    )
    .expect("put");
}

fn arc(nodes: Vec<Node>) -> Vec<Arc<Node>> {
    nodes.into_iter().map(Arc::new).collect()
}

#[test]
fn concurrent_writes_to_the_same_keys_converge_everywhere() {
    let nodes = arc(start_cluster(loopback(60), 3, 3));
    let ids = open(&nodes, "c", Mode::Replicated);
    let writers: Vec<_> = nodes
        .iter()
        .zip(&ids)
        .map(|(node, &id)| {
            let node = Arc::clone(node);
            std::thread::spawn(move || {
                for i in 0..600 {
                    put(
                        &node,
                        id,
                        &format!("k{}", i % 40),
                        &format!("{}:{i}", node.name()),
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    let took = wait_for("every node to hold the same values", WAIT, || {
        (0..40).all(|k| {
            let key = format!("k{k}");
            let first = value(&nodes[0], ids[0], &key);
            first.is_some()
                && nodes
                    .iter()
                    .zip(&ids)
                    .all(|(n, &id)| value(n, id, &key) == first)
        })
    });
    println!("3 nodes x 600 writes on 40 keys converged {took:?} after the last write");
    assert!(nodes
        .iter()
        .zip(&ids)
        .all(|(n, &id)| n.cache_len(id).unwrap() == 40));

    nodes[1]
        .cache_remove(ids[1], Bytes::from_static(b"k0"))
        .unwrap();
    wait_for("the removal everywhere", WAIT, || {
        nodes
            .iter()
            .zip(&ids)
            .all(|(n, &id)| value(n, id, "k0").is_none())
    });
    nodes[2].cache_clear(ids[2]).unwrap();
    wait_for("the clear everywhere", WAIT, || {
        nodes
            .iter()
            .zip(&ids)
            .all(|(n, &id)| n.cache_len(id).unwrap() == 0)
    });
    // Written after this node saw the clear, so its version is above the clear's.
    put(&nodes[0], ids[0], "after", "clear");
    wait_for("the later write everywhere", WAIT, || {
        nodes.iter().zip(&ids).all(|(n, &id)| {
            n.cache_len(id).unwrap() == 1 && value(n, id, "after").as_deref() == Some("clear")
        })
    });
}

#[test]
fn a_node_that_joins_serves_every_entry_as_soon_as_its_cache_opens() {
    let ip = loopback(61);
    let addrs: Vec<_> = (0..3).map(|_| free_addr(ip)).collect();
    let first: Vec<Arc<Node>> = (0..2)
        .map(|i| Arc::new(Node::start(config(&format!("n{i}"), addrs[i], &addrs)).unwrap()))
        .collect();
    let ids = open(&first, "warm", Mode::Replicated);
    for i in 0..20_000 {
        put(
            &first[i % 2],
            ids[i % 2],
            &format!("k{i}"),
            &format!("v{i}"),
        );
    }
    // An INVALIDATION cache's values stay where they were written.
    let local = first[0]
        .cache_open("local", Mode::Invalidation, None, None, WAIT)
        .unwrap();
    put(&first[0], local, "x", "y");
    wait_for("both first nodes to hold every entry", WAIT, || {
        first
            .iter()
            .zip(&ids)
            .all(|(n, &id)| n.cache_len(id).unwrap() == 20_000)
    });
    let joiner = Node::start(config("n2", addrs[2], &addrs)).unwrap();
    let id = joiner
        .cache_open("warm", Mode::Replicated, None, None, WAIT)
        .unwrap();
    assert_eq!(joiner.cache_len(id).unwrap(), 20_000);
    assert!((0..20_000).all(|i| value(&joiner, id, &format!("k{i}")) == Some(format!("v{i}"))));
    let local = joiner
        .cache_open("local", Mode::Invalidation, None, None, WAIT)
        .unwrap();
    assert_eq!(joiner.cache_len(local).unwrap(), 0);
    put(&first[1], ids[1], "later", "write");
    wait_for("a write after the join", WAIT, || {
        value(&joiner, id, "later").as_deref() == Some("write")
    });
}

#[test]
fn invalidation_drops_a_value_another_node_overwrote_and_tells_the_near_cache() {
    let nodes = arc(start_cluster(loopback(62), 2, 1));
    let ids = open(&nodes, "inv", Mode::Invalidation);
    put(&nodes[0], ids[0], "k", "first");
    put(&nodes[1], ids[1], "k", "old");
    // Node 0's own value goes when node 1's write is announced: concurrent writes in this mode
    // leave the key to be loaded again.
    wait_for("node 1's write announced", WAIT, || {
        value(&nodes[0], ids[0], "k").is_none()
    });
    nodes[0]
        .cache_invalidations(Duration::ZERO, 100)
        .expect("node open");
    put(&nodes[0], ids[0], "k", "new");
    wait_for("the old value dropped", WAIT, || {
        value(&nodes[1], ids[1], "k").is_none()
    });
    assert_eq!(value(&nodes[0], ids[0], "k").as_deref(), Some("new"));
    let dropped = nodes[1]
        .cache_invalidations(Duration::from_secs(1), 100)
        .expect("node open");
    assert!(
        dropped.contains(&(ids[1], Some(Bytes::from_static(b"k")))),
        "near cache told: {dropped:?}"
    );
    // The writer's own near cache is not fed its own writes.
    let own = nodes[0]
        .cache_invalidations(Duration::from_millis(100), 100)
        .expect("node open");
    assert!(own.is_empty(), "{own:?}");
}

#[test]
fn a_cut_link_delays_writes_but_loses_none() {
    let nodes = arc(start_cluster(loopback(63), 3, 3));
    let ids = open(&nodes, "c", Mode::Replicated);
    partition(&[&nodes[2]], &[&nodes[0], &nodes[1]]);
    for i in 0..500 {
        put(&nodes[0], ids[0], &format!("k{i}"), "v");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(nodes[2].cache_len(ids[2]).unwrap() < 500);
    for n in &nodes {
        n.faults().heal();
    }
    let took = wait_for(
        "the cut-off node to get every write",
        Duration::from_secs(20),
        || nodes[2].cache_len(ids[2]).unwrap() == 500,
    );
    println!("500 writes reached the cut-off node {took:?} after healing");
}

#[test]
fn entries_expire_and_the_bound_holds() {
    let nodes = arc(start_cluster(loopback(64), 2, 1));
    let open_ttl = |node: &Node| {
        let ttl = Some(Duration::from_millis(300));
        node.cache_open("ttl", Mode::Replicated, None, ttl, WAIT)
            .unwrap()
    };
    let ttl = open_ttl(&nodes[0]);
    put(&nodes[0], ttl, "k", "v");
    // Opened after the write, which may have created the store there already: opening gives
    // that store the cache's options.
    let remote = open_ttl(&nodes[1]);
    wait_for("the write on the other node", WAIT, || {
        value(&nodes[1], remote, "k").is_some()
    });
    wait_for("expiry on both nodes", WAIT, || {
        value(&nodes[0], ttl, "k").is_none() && value(&nodes[1], remote, "k").is_none()
    });
    let bounded = nodes[0]
        .cache_open("bounded", Mode::Replicated, Some(100), None, WAIT)
        .unwrap();
    for i in 0..1000 {
        put(&nodes[0], bounded, &format!("k{i}"), "v");
    }
    assert_eq!(nodes[0].cache_len(bounded).unwrap(), 100);
    let evicted = nodes[0]
        .cache_invalidations(Duration::from_millis(100), 2000)
        .expect("open");
    assert!(
        evicted.len() >= 900,
        "evictions reach the near cache: {}",
        evicted.len()
    );
}
