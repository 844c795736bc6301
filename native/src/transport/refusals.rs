//! Refusals of strangers, logged so that a flood cannot flood the log: per source address and
//! kind of refusal, the first is logged at once with its reason, and the next ones at most once
//! a minute, with how many there were (`logging::Throttle`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use parking_lot::Mutex;

use crate::logging::Throttle;

const INTERVAL: Duration = Duration::from_secs(60);
/// Sources tracked at once; past it the tallies start over (a flood from that many addresses
/// still logs at most a line per address a minute).
const MAX_SOURCES: usize = 1024;

#[derive(Default)]
pub struct Refusals {
    by_source: Mutex<HashMap<(IpAddr, &'static str), Throttle>>,
}

impl Refusals {
    /// Notes a refusal of kind `kind` (a fixed phrase) from `from`; `detail` says why.
    pub fn note(&self, from: IpAddr, kind: &'static str, detail: &dyn std::fmt::Display) {
        let mut by_source = self.by_source.lock();
        if by_source.len() >= MAX_SOURCES && !by_source.contains_key(&(from, kind)) {
            by_source.clear();
        }
        let count = by_source
            .entry((from, kind))
            .or_insert_with(|| Throttle::new(INTERVAL))
            .allow();
        drop(by_source);
        match count {
            Some(1) => tracing::warn!(
                peer = %from,
                "{kind}: {detail} (more from this address are counted, not logged)"
            ),
            Some(count) => tracing::warn!(
                peer = %from,
                count,
                "{kind}: {count} from this address since the last such line; the latest: {detail}"
            ),
            None => {}
        }
    }
}
