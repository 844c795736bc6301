//! How soon a new leader may end the sessions its predecessor renewed.
//!
//! A leader renews a lease only within `CONFIRMED_WITHIN` of a quorum confirming it, and every
//! confirmation needs acks from enough followers. So a new leader that learns when each of
//! enough followers last acked any earlier leader knows a time after which no earlier leader
//! can have been confirmed; session timers may start there instead of at its own election, and
//! a lock held on the old leader's node passes on sooner after that node crashes. When it
//! cannot learn enough (followers unreachable, another leader among them, a membership
//! change), the new leader keeps timing from its own start (architecture.md).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::types::NodeId;

/// What a follower tells a new leader about earlier terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AckReport {
    /// How long ago it last acked a leader of an earlier term (its own clock); None: never.
    pub ago_ms: Option<u64>,
    /// The latest term before the asked one that it led itself, if any.
    pub led_term: Option<u64>,
}

/// A follower's memory of when it last answered each term's leader, and what it led itself.
#[derive(Default)]
pub struct AckLog {
    acks: Mutex<BTreeMap<u64, Instant>>,
    led: Mutex<BTreeSet<u64>>,
}

const TERMS_KEPT: usize = 8;

impl AckLog {
    pub fn acked(&self, term: u64) {
        let mut acks = self.acks.lock();
        acks.insert(term, Instant::now());
        while acks.len() > TERMS_KEPT {
            acks.pop_first();
        }
    }

    pub fn led(&self, term: u64) {
        let mut led = self.led.lock();
        led.insert(term);
        while led.len() > TERMS_KEPT {
            led.pop_first();
        }
    }

    /// When this node last acked a leader of a term before `term`.
    pub fn latest_before(&self, term: u64) -> Option<Instant> {
        self.acks.lock().range(..term).map(|(_, at)| *at).max()
    }

    pub fn report(&self, term: u64) -> AckReport {
        AckReport {
            ago_ms: self
                .latest_before(term)
                .map(|at| at.elapsed().as_millis() as u64),
            led_term: self.led.lock().range(..term).next_back().copied(),
        }
    }
}

/// Followers whose reports bound every possible confirmation of a leader not among them:
/// each quorum holds `majority - 1` followers, so `voters - majority + 1` of them meet them all.
pub fn reports_needed(voters: usize) -> usize {
    voters - (voters / 2 + 1) + 1
}

/// From reports gathered at `received` (answers from nodes other than the previous leader,
/// this node's own included), the time after which no earlier leader was confirmed; `None`
/// when the reports cannot bound it.
pub fn confirmations_end(
    reports: &[(NodeId, AckReport, Instant)],
    voters: usize,
) -> Option<Instant> {
    // Only a follower that never led itself and remembers an ack counts: a former leader's
    // acks say nothing of its own confirmations, and a node that never acked (or restarted
    // and forgot) cannot vouch for what an earlier leader did. (A node that led before a
    // restart is harmless: a JVM restart outlasts every lease it granted.)
    let acks: Vec<Instant> = reports
        .iter()
        .filter(|(_, r, _)| r.led_term.is_none())
        .filter_map(|(_, r, received)| r.ago_ms.map(|ago| *received - Duration::from_millis(ago)))
        .collect();
    if acks.len() < reports_needed(voters) {
        return None;
    }
    acks.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_followers_bound_the_last_confirmation() {
        assert_eq!(reports_needed(3), 2);
        assert_eq!(reports_needed(5), 3);
        let now = Instant::now();
        let report = |ago| AckReport {
            ago_ms: Some(ago),
            led_term: None,
        };
        let two = [(1, report(900), now), (2, report(300), now)];
        assert_eq!(
            confirmations_end(&two, 3),
            Some(now - Duration::from_millis(300))
        );
        assert_eq!(confirmations_end(&two[..1], 3), None);
        let led = [
            (1, report(900), now),
            (
                2,
                AckReport {
                    ago_ms: Some(5),
                    led_term: Some(4),
                },
                now,
            ),
        ];
        assert_eq!(confirmations_end(&led, 3), None);
        let forgot = [
            (1, report(900), now),
            (
                2,
                AckReport {
                    ago_ms: None,
                    led_term: None,
                },
                now,
            ),
        ];
        assert_eq!(confirmations_end(&forgot, 3), None);
    }
}
