//! Versions of cache entries: a hybrid logical clock and the writer's node id.
//!
//! The clock's upper 52 bits are wall-clock microseconds (enough until 2112) and its lower 12 a
//! counter, so a version both orders writes like real time (as far as the hosts' clocks agree)
//! and never runs backwards on one node: a write after having seen another always gets a
//! higher version, whatever the clocks say. Microseconds rather than milliseconds, so that two
//! writes on two nodes a few microseconds apart are not left to the node-id tie-break. Ties
//! are broken by node id, so every node picks the same winner.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clocks::{now_micros, MAX_AHEAD};

const LOGICAL_BITS: u32 = 12;
/// The largest wall-clock time a clock can hold, in microseconds (52 bits: the year 2112).
const MAX_MICROS: u64 = u64::MAX >> LOGICAL_BITS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub clock: u64,
    pub node: u64,
}

impl Version {
    pub const ZERO: Version = Version { clock: 0, node: 0 };

    /// The wall-clock milliseconds at which the version was made.
    pub fn millis(self) -> u64 {
        (self.clock >> LOGICAL_BITS) / 1000
    }
}

pub struct Hlc {
    node: u64,
    last: AtomicU64,
}

impl Hlc {
    pub fn new(node: u64) -> Hlc {
        Hlc {
            node,
            last: AtomicU64::new(0),
        }
    }

    /// A version above every one this node made or observed; it never wraps (past the last
    /// counter value of the year 2112 it stays there).
    pub fn tick(&self) -> Version {
        let physical = physical_now();
        let previous = self
            .last
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(physical.max(last.saturating_add(1)))
            })
            .unwrap_or_else(|last| last);
        Version {
            clock: physical.max(previous.saturating_add(1)),
            node: self.node,
        }
    }

    /// Moves the clock past a version received from another node, unless that version is more
    /// than `clocks::MAX_AHEAD` past this node's clock: then it is refused (not observed, and its
    /// write must not be applied), with how far ahead it is. Observing it would also have moved
    /// this node's clock, and so every later write of it, that far ahead.
    pub fn observe(&self, seen: Version) -> Result<(), Duration> {
        let limit = physical_now().saturating_add((MAX_AHEAD.as_micros() as u64) << LOGICAL_BITS);
        if seen.clock > limit {
            let ahead = (seen.clock >> LOGICAL_BITS).saturating_sub(physical_now() >> LOGICAL_BITS);
            return Err(Duration::from_micros(ahead));
        }
        self.last.fetch_max(seen.clock, Ordering::AcqRel);
        Ok(())
    }
}

/// This node's wall clock in the clock's upper bits.
fn physical_now() -> u64 {
    now_micros().min(MAX_MICROS) << LOGICAL_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rise_and_pass_what_was_observed() {
        let clock = Hlc::new(1);
        let a = clock.tick();
        let b = clock.tick();
        assert!(b > a);
        let far = Version {
            clock: a.clock + (10_000_000 << LOGICAL_BITS),
            node: 2,
        };
        clock.observe(far).expect("10 s ahead is within the bound");
        let c = clock.tick();
        assert!(c.clock > far.clock && c.node == 1);
        assert!(c.millis() >= far.millis());
    }

    #[test]
    fn a_version_too_far_ahead_is_refused_and_not_observed() {
        let clock = Hlc::new(1);
        let before = clock.tick();
        let hour = Version {
            clock: before.clock + ((3600 * 1_000_000) << LOGICAL_BITS),
            node: 2,
        };
        let ahead = clock.observe(hour).expect_err("an hour ahead");
        assert!(ahead > Duration::from_secs(3599), "{ahead:?}");
        let huge = Version {
            clock: u64::MAX,
            node: 2,
        };
        assert!(clock.observe(huge).is_err());
        let after = clock.tick();
        assert!(
            after > before && after.clock < hour.clock,
            "the clock did not jump"
        );
    }

    #[test]
    fn the_clock_never_wraps() {
        let clock = Hlc::new(1);
        clock.last.store(u64::MAX - 1, Ordering::Release);
        assert_eq!(clock.tick().clock, u64::MAX);
        assert_eq!(
            clock.tick().clock,
            u64::MAX,
            "stays at the top, never back to 0"
        );
    }
}
