//! Versions of cache entries: a hybrid logical clock and the writer's node id.
//!
//! The clock's upper 52 bits are wall-clock microseconds (enough until 2112) and its lower 12 a
//! counter, so a version both orders writes like real time (as far as the hosts' clocks agree)
//! and never runs backwards on one node: a write after having seen another always gets a
//! higher version, whatever the clocks say. Microseconds rather than milliseconds, so that two
//! writes on two nodes a few microseconds apart are not left to the node-id tie-break. Ties
//! are broken by node id, so every node picks the same winner.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

const LOGICAL_BITS: u32 = 12;

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

    /// A version above every one this node made or observed.
    pub fn tick(&self) -> Version {
        let physical = now_micros() << LOGICAL_BITS;
        let previous = self
            .last
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(physical.max(last + 1))
            })
            .unwrap_or_else(|last| last);
        Version {
            clock: physical.max(previous + 1),
            node: self.node,
        }
    }

    /// Moves the clock past a version received from another node.
    pub fn observe(&self, seen: Version) {
        self.last.fetch_max(seen.clock, Ordering::AcqRel);
    }
}

pub fn now_millis() -> u64 {
    now_micros() / 1000
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
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
        clock.observe(far);
        let c = clock.tick();
        assert!(c.clock > far.clock && c.node == 1);
        assert!(c.millis() >= far.millis());
    }
}
