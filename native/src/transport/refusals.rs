//! Refusals of strangers, logged so that a flood cannot flood the log: the first refusal of a
//! kind from a source address is logged at once with its reason, the next ones only counted,
//! and the count logged with the first refusal after `INTERVAL`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

const INTERVAL: Duration = Duration::from_secs(60);
/// Sources tracked at once; past it the oldest tallies are forgotten (their counts logged).
const MAX_SOURCES: usize = 1024;

#[derive(Default)]
pub struct Refusals {
    tallies: Mutex<HashMap<(IpAddr, &'static str), Tally>>,
}

struct Tally {
    since: Instant,
    unlogged: u64,
}

impl Refusals {
    /// Notes a refusal of kind `kind` (a fixed phrase) from `from`; `detail` says why and is
    /// logged only with the first of a run.
    pub fn note(&self, from: IpAddr, kind: &'static str, detail: &dyn std::fmt::Display) {
        let now = Instant::now();
        let mut tallies = self.tallies.lock();
        if tallies.len() >= MAX_SOURCES && !tallies.contains_key(&(from, kind)) {
            tallies.retain(|(ip, kind), tally| {
                flush(*ip, kind, tally);
                now.duration_since(tally.since) < INTERVAL
            });
            if tallies.len() >= MAX_SOURCES {
                tallies.clear();
            }
        }
        match tallies.get_mut(&(from, kind)) {
            Some(tally) if now.duration_since(tally.since) < INTERVAL => tally.unlogged += 1,
            Some(tally) => {
                flush(from, kind, tally);
                *tally = Tally {
                    since: now,
                    unlogged: 1,
                };
            }
            None => {
                tracing::warn!(peer = %from, "{kind}: {detail} (more from this address are counted, not logged)");
                tallies.insert(
                    (from, kind),
                    Tally {
                        since: now,
                        unlogged: 0,
                    },
                );
            }
        }
    }
}

fn flush(from: IpAddr, kind: &str, tally: &mut Tally) {
    if tally.unlogged > 0 {
        tracing::warn!(
            peer = %from,
            count = tally.unlogged,
            seconds = tally.since.elapsed().as_secs(),
            "{kind}: {} more from this address",
            tally.unlogged
        );
        tally.unlogged = 0;
    }
}
