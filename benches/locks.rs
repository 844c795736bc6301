//! Uncontended lock + unlock through Raft, on nodes in one process over loopback sockets:
//! a one-node group (no replication: the cost of openraft and the state machine alone) and the
//! leader of a three-node group (one replication round trip per commit).

mod common;

use std::time::Duration;

use common::cluster;
use criterion::{criterion_group, criterion_main, Criterion};

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
