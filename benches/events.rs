//! Publish-to-deliver round trip between nodes in one process over loopback sockets, without
//! the JVM: node 0 publishes a ping, a thread of node 1 echoes it on another topic, and the
//! benchmark's thread waits for the echo on node 0. Node 2 only receives the pings. Then the
//! same while another thread of node 0 publishes 10,000 fillers a second on the ping topic.
//! The JMH `EventsBenchmark` measures the same across three JVMs; the difference is the Java
//! side.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster;
use criterion::{criterion_group, criterion_main, Criterion};
use openmrs_cluster::Node;

const POLL: Duration = Duration::from_secs(5);
/// The fillers' rate, and the pause between the filler thread's rounds (as JMH's `Pacer`).
const FILLERS_PER_SECOND: u64 = 10_000;
const TICK: Duration = Duration::from_micros(200);
const FILLER: &[u8] = b"filler";

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
            for ping in batch.into_iter().filter(|b| b.as_ref() != FILLER) {
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
    let mut round_trip = || {
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
    };
    group.bench_function("round_trip_of_3", |b| b.iter(&mut round_trip));
    let stop = Arc::new(AtomicBool::new(false));
    let fillers = {
        let (node, stop) = (Arc::clone(&nodes[0]), Arc::clone(&stop));
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let due = start.elapsed().as_micros() as u64 * FILLERS_PER_SECOND / 1_000_000;
                while sent < due {
                    node.events_publish("ping", FILLER.to_vec())
                        .expect("publish");
                    sent += 1;
                }
                std::thread::sleep(TICK);
            }
        })
    };
    group.bench_function("round_trip_of_3_at_10k", |b| b.iter(&mut round_trip));
    stop.store(true, Ordering::Relaxed);
    fillers.join().expect("filler thread");
    group.finish();
    for node in &nodes {
        node.close();
    }
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
