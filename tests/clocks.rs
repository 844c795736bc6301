//! A node whose clock runs far ahead cannot take the others' time: its cache writes are refused
//! (they would win over every later write), and so are the schedule periods and ShedLock times
//! it proposes (they would make the others' periods "already ran" and its holds outlast them).

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::*;
use openmrs_cluster::cache::{CacheBatch, Change, Mode, Record, RecordSet, Version};
use openmrs_cluster::clocks::MAX_AHEAD;
use openmrs_cluster::transport::{ChannelPool, Faults};
use openmrs_cluster::wire::{Body, Frame};
use openmrs_cluster::{ClusterError, Node, NodeConfig};

const HOUR_MS: u64 = 3_600_000;

fn secured(c: &mut NodeConfig) {
    c.raft_voters = 3;
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn value(node: &Node, cache: u64) -> Option<String> {
    node.cache_get(cache, b"k")
        .unwrap()
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

#[test]
fn a_cache_write_from_a_clock_an_hour_ahead_is_refused_and_cannot_pin_the_key() {
    let ip = loopback(107);
    let nodes: Vec<Arc<Node>> = start_cluster_with(ip, 2, secured)
        .into_iter()
        .map(Arc::new)
        .collect();
    let ids: Vec<u64> = nodes
        .iter()
        .map(|n| {
            n.cache_open("c", Mode::Replicated, None, None, Duration::from_secs(10))
                .unwrap()
        })
        .collect();

    // A node with the key whose clock is an hour ahead writes k (its versions say so).
    let pool = ChannelPool::new(keys_as("n0"), Faults::default());
    let ahead = Version {
        clock: ((now_ms() + HOUR_MS) * 1000) << 12,
        node: 7,
    };
    let record = Record {
        key: Bytes::from_static(b"k"),
        version: ahead,
        change: Change::Put {
            value: Bytes::from_static(b"pinned"),
            expires_at: u64::MAX,
        },
    };
    let batch = Frame::new(Body::CacheWrites(CacheBatch {
        origin: "ahead".into(),
        set: RecordSet::new([(Arc::from("c"), record)]),
    }));
    let reply = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(pool.call(nodes[1].address(), &batch, Duration::from_secs(10)))
        .expect("answered");
    assert!(matches!(reply.body, Body::CacheWritesAck), "{reply:?}");
    assert_eq!(value(&nodes[1], ids[1]), None, "the write was not applied");

    // An honest write made after it is what every node ends with.
    nodes[0]
        .cache_put(
            ids[0],
            Bytes::from_static(b"k"),
            Bytes::from_static(b"fresh"),
        )
        .unwrap();
    wait_for(
        "the honest write everywhere",
        Duration::from_secs(10),
        || {
            nodes
                .iter()
                .zip(&ids)
                .all(|(n, id)| value(n, *id).as_deref() == Some("fresh"))
        },
    );
}

#[test]
fn schedule_periods_and_shedlock_times_an_hour_ahead_are_refused() {
    let nodes = start_cluster_with(loopback(108), 3, secured);
    for n in &nodes {
        n.schedule_join("sync").unwrap();
    }
    let owner = nodes
        .iter()
        .find(|n| n.schedule_owned("sync"))
        .expect("an owner");
    let period_ms = 1000;

    // The owner's clock is an hour ahead: it asks for the period its clock says.
    let far = (now_ms() + HOUR_MS) / period_ms;
    let e = owner.schedule_run("sync", far, period_ms).unwrap_err();
    assert!(matches!(e, ClusterError::Unavailable(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("s ahead of the leader's (more than 60 s); check the clocks of the nodes"),
        "{e}"
    );
    // So the period of the right time still runs (it would have "already run").
    let now = now_ms() / period_ms;
    assert!(owner.schedule_run("sync", now, period_ms).unwrap());
    // A clock within the bound is taken as it is.
    let soon = (now_ms() + MAX_AHEAD.as_millis() as u64 / 2) / period_ms;
    assert!(owner.schedule_run("sync", soon, period_ms).unwrap());

    let e = nodes[1]
        .shed_lock("report", now_ms() + HOUR_MS, now_ms() + HOUR_MS + 30_000)
        .unwrap_err();
    // Whole seconds, measured at the leader a moment after the hold was asked for.
    let ahead: u64 = e
        .to_string()
        .split("the proposing node's clock is ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no seconds ahead in: {e}"));
    assert!((3590..=3600).contains(&ahead), "{e}");
    let taken = nodes[2]
        .shed_lock("report", now_ms(), now_ms() + 30_000)
        .unwrap();
    assert!(
        taken,
        "the lock is free: the hold an hour ahead was not taken"
    );
}
