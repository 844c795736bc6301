//! Publish-to-deliver round trip between nodes in one process over loopback sockets, without
//! the JVM: node 0 publishes a ping, a thread of node 1 echoes it on another topic, and the
//! benchmark's thread waits for the echo on node 0. Node 2 only receives the pings. The JMH
//! `EventsBenchmark` measures the same across three JVMs; the difference is the Java side.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::cluster;
use criterion::{criterion_group, criterion_main, Criterion};
use openmrs_cluster::Node;

const POLL: Duration = Duration::from_secs(5);

fn round_trip(c: &mut Criterion) {
    let nodes: Vec<Arc<Node>> = cluster(3).into_iter().map(Arc::new).collect();
    while nodes[0].members().map_or(0, |m| m.len()) < 3 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pings = nodes[1].events_subscribe("ping", 1024).expect("subscribe");
    let quiet = nodes[2]
        .events_subscribe("ping", 1 << 20)
        .expect("subscribe");
    let pongs = nodes[0].events_subscribe("pong", 1024).expect("subscribe");
    let echo = Arc::clone(&nodes[1]);
    std::thread::spawn(move || {
        while let Ok(Some(batch)) = echo.events_poll(pings, POLL, 64) {
            for ping in batch {
                if echo.events_publish("pong", ping).is_err() {
                    return;
                }
            }
        }
    });
    let drain = Arc::clone(&nodes[2]);
    std::thread::spawn(move || while let Ok(Some(_)) = drain.events_poll(quiet, POLL, 4096) {});
    let mut group = c.benchmark_group("events");
    group.measurement_time(Duration::from_secs(5));
    let mut seq = 0u64;
    group.bench_function("round_trip_of_3", |b| {
        b.iter(|| {
            seq += 1;
            nodes[0]
                .events_publish("ping", seq.to_le_bytes().to_vec())
                .expect("publish");
            let echoed = nodes[0]
                .events_poll(pongs, POLL, 1)
                .expect("poll")
                .expect("open");
            assert_eq!(
                echoed.first().map(|b| b.as_ref()),
                Some(&seq.to_le_bytes()[..])
            );
        })
    });
    group.finish();
    for node in &nodes {
        node.close();
    }
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
