//! Which sealed datagrams were seen already. A datagram is authentic if it carries the cluster's
//! key, but an eavesdropper can send a recorded one again: a departed node's gossip replayed
//! would bring a ghost back into the membership. So each datagram carries its sender's
//! instance (random per node start), a counter and the sender's clock: one older than
//! `FRESH_WITHIN` is stale, and within that time a counter an instance already used is a replay.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How far a datagram's time may be from this node's clock. Nodes' clocks must agree within
/// it (NTP keeps servers within milliseconds); `CLOCK_SKEW_MAX` refuses a joiner whose clock
/// is off by half of it, leaving the other half for delays.
pub const FRESH_WITHIN: Duration = Duration::from_secs(20);
/// A joiner whose clock is further than this from a member's is refused (node/dispatch.rs):
/// half of `FRESH_WITHIN`, so that the stamps of nodes within it stay fresh with room for delay.
pub const CLOCK_SKEW_MAX: Duration = Duration::from_secs(10);
/// Longer than `FRESH_WITHIN`, so a replay within the freshness window always finds the window.
const KEPT_FOR: Duration = Duration::from_secs(60);
/// Instances remembered at once: far more than a cluster has nodes, and their starts in a minute.
const MAX_INSTANCES: usize = 4096;
/// Counters below the highest seen that are still told apart (datagrams overtake each other).
const WINDOW: u64 = 128;

/// The header every datagram's payload starts with, inside the seal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub instance: u64,
    pub counter: u64,
    pub sent_ms: u64,
}

pub const STAMP_LEN: usize = 24;

impl Stamp {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.instance.to_be_bytes());
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(&self.sent_ms.to_be_bytes());
    }

    /// The stamp at the front of `payload`, and the rest.
    pub fn read(payload: &[u8]) -> Option<(Stamp, &[u8])> {
        let field = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(
                payload.get(at..at + 8)?.try_into().ok()?,
            ))
        };
        let stamp = Stamp {
            instance: field(0)?,
            counter: field(8)?,
            sent_ms: field(16)?,
        };
        Some((stamp, &payload[STAMP_LEN..]))
    }
}

/// Why a stamped datagram is not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Sent this many milliseconds before (negative: after) this node's clock says now.
    Stale {
        age_ms: i64,
    },
    Replayed,
}

#[derive(Default)]
pub struct Replays {
    windows: HashMap<u64, Window>,
}

struct Window {
    highest: u64,
    /// Bit i: counter `highest - i` was seen.
    seen: u128,
    touched: Instant,
}

impl Replays {
    /// Takes the datagram stamped `stamp` at wall-clock `now_ms`, or says why not.
    pub fn check(&mut self, stamp: Stamp, now_ms: u64) -> Result<(), Rejected> {
        let age_ms = i64::try_from(now_ms)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(stamp.sent_ms).unwrap_or(i64::MAX));
        if age_ms.unsigned_abs() > FRESH_WITHIN.as_millis() as u64 {
            return Err(Rejected::Stale { age_ms });
        }
        let now = Instant::now();
        if !self.windows.contains_key(&stamp.instance) && self.windows.len() >= MAX_INSTANCES {
            self.make_room(now);
        }
        let window = self.windows.entry(stamp.instance).or_insert(Window {
            highest: stamp.counter,
            seen: 0,
            touched: now,
        });
        window.touched = now;
        window.take(stamp.counter)
    }

    /// Forgets windows untouched for `KEPT_FOR`, or else the least recently touched one.
    fn make_room(&mut self, now: Instant) {
        self.windows
            .retain(|_, w| now.duration_since(w.touched) < KEPT_FOR);
        if self.windows.len() >= MAX_INSTANCES {
            let oldest = self
                .windows
                .iter()
                .min_by_key(|(_, w)| w.touched)
                .map(|(instance, _)| *instance);
            if let Some(instance) = oldest {
                self.windows.remove(&instance);
            }
        }
    }
}

impl Window {
    fn take(&mut self, counter: u64) -> Result<(), Rejected> {
        if counter > self.highest {
            let shift = counter - self.highest;
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.highest = counter;
            self.seen |= 1;
            return Ok(());
        }
        let behind = self.highest - counter;
        if behind >= WINDOW {
            return Err(Rejected::Replayed);
        }
        let bit = 1u128 << behind;
        if self.seen & bit != 0 {
            return Err(Rejected::Replayed);
        }
        self.seen |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(instance: u64, counter: u64, sent_ms: u64) -> Stamp {
        Stamp {
            instance,
            counter,
            sent_ms,
        }
    }

    #[test]
    fn each_counter_is_taken_once_in_any_order_within_the_window() {
        let mut replays = Replays::default();
        let now = 1_000_000;
        for counter in [5, 3, 4, 9, 1, 2] {
            assert_eq!(replays.check(stamp(7, counter, now), now), Ok(()));
        }
        for counter in [5, 3, 9, 1] {
            assert_eq!(
                replays.check(stamp(7, counter, now), now),
                Err(Rejected::Replayed)
            );
        }
        assert_eq!(replays.check(stamp(8, 5, now), now), Ok(()));
        assert_eq!(replays.check(stamp(7, 9 + WINDOW, now), now), Ok(()));
        assert_eq!(
            replays.check(stamp(7, 9, now), now),
            Err(Rejected::Replayed)
        );
    }

    #[test]
    fn a_datagram_too_old_or_too_far_ahead_is_stale() {
        let mut replays = Replays::default();
        let now = 100_000_000;
        let fresh = FRESH_WITHIN.as_millis() as u64;
        assert_eq!(replays.check(stamp(1, 1, now - fresh), now), Ok(()));
        assert_eq!(
            replays.check(stamp(1, 2, now - fresh - 1), now),
            Err(Rejected::Stale {
                age_ms: fresh as i64 + 1
            })
        );
        assert_eq!(
            replays.check(stamp(1, 3, now + fresh + 1), now),
            Err(Rejected::Stale {
                age_ms: -(fresh as i64) - 1
            })
        );
        assert!(replays.check(stamp(1, 4, u64::MAX), now).is_err());
    }

    #[test]
    fn the_windows_kept_are_bounded() {
        let mut replays = Replays::default();
        for instance in 0..(MAX_INSTANCES as u64 + 10) {
            replays.check(stamp(instance, 1, 5_000), 5_000).unwrap();
        }
        assert_eq!(replays.windows.len(), MAX_INSTANCES);
    }
}
