//! Uncontended lock + unlock through Raft, on nodes in one process over loopback sockets:
//! a one-node group (no replication: the cost of openraft and the state machine alone) and the
//! leader of a three-node group (one replication round trip per commit).

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
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

fn cluster(size: usize) -> Vec<Node> {
    let addrs: Vec<SocketAddr> = (0..size).map(|_| free_addr()).collect();
    addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let mut config = NodeConfig::loopback("bench");
            config.node_name = Some(format!("b{i}"));
            config.bind = *addr;
            config.seeds = addrs.clone();
            config.raft_voters = size;
            Node::start(config).expect("node starts")
        })
        .collect()
}

fn lock_unlock(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock_unlock");
    group.measurement_time(Duration::from_secs(5));
    for size in [1usize, 3] {
        let nodes = cluster(size);
        let leader = nodes
            .iter()
            .find(|n| n.status().map(|s| s.role == "LEADER").unwrap_or(false))
            .expect("a leader");
        group.bench_function(format!("leader_of_{size}"), |b| {
            b.iter(|| {
                let fence = leader.lock_try("bench", 1).unwrap().expect("uncontended");
                assert!(leader.lock_release("bench", 1, fence).unwrap());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lock_unlock);
criterion_main!(benches);
