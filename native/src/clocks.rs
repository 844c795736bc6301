//! Wall clocks across nodes. Some times a node sends are compared with other nodes' times: cache
//! versions (cache/hlc.rs), the periods of singleton schedules and ShedLock's "now". A node whose
//! clock runs ahead (no NTP, a time zone set as UTC) would win every such comparison until the
//! others' clocks caught up: its cache writes would beat every later write, a schedule period it
//! ran would make every honest node's earlier-numbered periods "already ran". So a time more than
//! `MAX_AHEAD` past the receiving node's clock is refused, with a warning.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// NTP keeps LAN clocks within milliseconds; a minute leaves room for a badly kept one, and is
/// the most that a bad clock can take from the others.
pub const MAX_AHEAD: Duration = Duration::from_secs(60);

pub fn now_millis() -> u64 {
    now_micros() / 1000
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// How far `at_ms` (epoch milliseconds) is past this node's clock, when that is more than
/// `MAX_AHEAD`.
pub fn too_far_ahead(at_ms: u64) -> Option<Duration> {
    let ahead = Duration::from_millis(at_ms.saturating_sub(now_millis()));
    (ahead > MAX_AHEAD).then_some(ahead)
}
