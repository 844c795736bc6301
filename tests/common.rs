//! Helpers shared by the multi-node tests: nodes on loopback, and waiting on conditions with a
//! deadline instead of sleeping a fixed time.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use openmrs_cluster::crypto::{ClusterKeys, Secret};
use openmrs_cluster::wire::PROTOCOL_VERSION;
use openmrs_cluster::{Node, NodeConfig};

/// The secret of the test clusters: every node that has seeds needs one.
pub const SECRET: &str = "the secret of the test clusters";

/// The keys of the test clusters, for a peer that opens streams as node `name`: a member's
/// name to act as that member (one that misbehaves), another to act as an insider that is not.
pub fn keys_as(name: &str) -> ClusterKeys {
    ClusterKeys::derive(
        Some(&Secret::new(SECRET)),
        "test-cluster",
        "unversioned",
        PROTOCOL_VERSION,
    )
    .introducing(name)
}

/// Each test uses its own loopback address, so tests running in parallel never share a port.
pub fn loopback(last: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 10, last])
}

/// A port free for both TCP and UDP on `ip` at the time of asking.
pub fn free_addr(ip: std::net::IpAddr) -> SocketAddr {
    loop {
        let tcp = TcpListener::bind((ip, 0)).expect("bind an ephemeral port");
        let addr = tcp.local_addr().expect("local address");
        if UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
}

pub fn config(name: &str, bind: SocketAddr, seeds: &[SocketAddr]) -> NodeConfig {
    let mut c = NodeConfig::loopback("test-cluster");
    c.secret = Some(Secret::new(SECRET));
    c.node_name = Some(name.to_string());
    c.bind = bind;
    c.seeds = seeds.to_vec();
    c.join_timeout = Duration::from_secs(15);
    c
}

pub fn names(node: &Node) -> Vec<String> {
    node.members()
        .expect("node is open")
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// Polls `condition` until it holds, and returns how long that took; fails after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

/// Starts `n` nodes on `ip` that share one seed list, one after another.
pub fn start_cluster(ip: std::net::IpAddr, n: usize, voters: usize) -> Vec<Node> {
    start_cluster_with(ip, n, |c| c.raft_voters = voters)
}

/// As `start_cluster`, with each node's configuration adjusted by `adjust`.
pub fn start_cluster_with(
    ip: std::net::IpAddr,
    n: usize,
    adjust: impl Fn(&mut NodeConfig),
) -> Vec<Node> {
    let addrs: Vec<SocketAddr> = (0..n).map(|_| free_addr(ip)).collect();
    addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let mut c = config(&format!("n{i}"), *addr, &addrs);
            adjust(&mut c);
            Node::start(c).expect("node starts")
        })
        .collect()
}

pub fn leader_index(nodes: &[&Node]) -> Option<usize> {
    nodes
        .iter()
        .position(|n| n.status().map(|s| s.role == "LEADER").unwrap_or(false))
}

/// Cuts every link between the two groups, both ways.
pub fn partition(side_a: &[&Node], side_b: &[&Node]) {
    for a in side_a {
        for b in side_b {
            a.faults().isolate(b.address());
            b.faults().isolate(a.address());
        }
    }
}
