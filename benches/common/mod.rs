//! A cluster of nodes in this process on loopback sockets, for the benchmarks.

use std::net::{SocketAddr, TcpListener, UdpSocket};

use openmrs_cluster::crypto::Secret;
use openmrs_cluster::{Node, NodeConfig};

fn free_addr() -> SocketAddr {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
        let addr = tcp.local_addr().expect("its address");
        if UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// `size` nodes, all voters, each started with every address as its seeds.
pub fn cluster(size: usize) -> Vec<Node> {
    let addrs: Vec<SocketAddr> = (0..size).map(|_| free_addr()).collect();
    addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let mut config = NodeConfig::loopback("bench");
            config.secret = Some(Secret::new("a benchmark secret of some length"));
            config.node_name = Some(format!("b{i}"));
            config.bind = *addr;
            config.seeds = addrs.clone();
            config.raft_voters = size;
            Node::start(config).expect("node starts")
        })
        .collect()
}
