//! Work queues: items in the order they were offered, each claimed by one session at a time
//! until it is acknowledged (gone) or released (back in its place in line), or set aside as a
//! dead letter by a holder that cannot read it (so that it no longer blocks the head of the line).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Outcome;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Item {
    /// As bytes: snapshots of many items are written and sent at the speed of a copy.
    #[serde(with = "serde_bytes")]
    payload: Vec<u8>,
    claimed_by: Option<u64>,
}

/// Dead letters one queue keeps at most; past it, the one offered first goes. A node that holds
/// the secret but sends items no other node can read must not grow the state without bound.
pub const MAX_DEAD_LETTERS: usize = 1000;

/// An item set aside because the node that claimed it could not read it, for an operator to see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: u64,
    pub payload: Vec<u8>,
    pub reason: String,
    /// When it was set aside: wall-clock milliseconds of the node that did.
    pub at_ms: u64,
    /// The name of the node that set it aside.
    pub node: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Queue {
    /// Ids grow with every offer, so id order is offer order.
    next_id: u64,
    items: BTreeMap<u64, Item>,
    dead_letters: BTreeMap<u64, DeadLetter>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queues {
    queues: BTreeMap<String, Queue>,
}

impl Queues {
    pub fn offer(&mut self, queue: &str, payload: &[u8]) -> Outcome {
        let q = self.queues.entry(queue.to_string()).or_default();
        q.next_id += 1;
        q.items.insert(
            q.next_id,
            Item {
                payload: payload.to_vec(),
                claimed_by: None,
            },
        );
        Outcome::Offered { id: q.next_id }
    }

    /// The oldest unclaimed item, now claimed by `session`.
    pub fn claim(&mut self, queue: &str, session: u64) -> Outcome {
        let Some(q) = self.queues.get_mut(queue) else {
            return Outcome::Empty;
        };
        match q
            .items
            .iter_mut()
            .find(|(_, item)| item.claimed_by.is_none())
        {
            Some((id, item)) => {
                item.claimed_by = Some(session);
                Outcome::Claimed {
                    id: *id,
                    payload: item.payload.clone(),
                }
            }
            None => Outcome::Empty,
        }
    }

    /// Acknowledges (`done`) or releases a claim; only its holder may.
    pub fn settle(&mut self, queue: &str, session: u64, id: u64, done: bool) -> Outcome {
        let Some(q) = self.queues.get_mut(queue) else {
            return Outcome::NotOwner;
        };
        match q.items.get_mut(&id) {
            Some(item) if item.claimed_by == Some(session) => {
                if done {
                    q.items.remove(&id);
                } else {
                    item.claimed_by = None;
                }
                Outcome::Done
            }
            _ => Outcome::NotOwner,
        }
    }

    /// Moves a claimed item to the dead letters; only its holder may. Past `MAX_DEAD_LETTERS` the
    /// dead letter offered first goes, and the outcome names it.
    pub fn set_aside(
        &mut self,
        queue: &str,
        session: u64,
        id: u64,
        reason: &str,
        at_ms: u64,
        node: &str,
    ) -> Outcome {
        let Some(q) = self.queues.get_mut(queue) else {
            return Outcome::NotOwner;
        };
        let item = match q.items.entry(id) {
            Entry::Occupied(held) if held.get().claimed_by == Some(session) => held.remove(),
            _ => return Outcome::NotOwner,
        };
        q.dead_letters.insert(
            id,
            DeadLetter {
                id,
                payload: item.payload,
                reason: reason.to_string(),
                at_ms,
                node: node.to_string(),
            },
        );
        let displaced = if q.dead_letters.len() > MAX_DEAD_LETTERS {
            q.dead_letters.pop_first().map(|(old, _)| old)
        } else {
            None
        };
        Outcome::SetAside { displaced }
    }

    /// Removes the dead letter `id`, or every one with `None`; how many went.
    pub fn clear_dead_letters(&mut self, queue: &str, id: Option<u64>) -> Outcome {
        let Some(q) = self.queues.get_mut(queue) else {
            return Outcome::Removed { count: 0 };
        };
        let count = match id {
            Some(id) => u64::from(q.dead_letters.remove(&id).is_some()),
            None => {
                let all = q.dead_letters.len() as u64;
                q.dead_letters.clear();
                all
            }
        };
        Outcome::Removed { count }
    }

    /// The queue's dead letters, the first offered first.
    pub fn dead_letters(&self, queue: &str) -> Vec<DeadLetter> {
        self.queues
            .get(queue)
            .map_or_else(Vec::new, |q| q.dead_letters.values().cloned().collect())
    }

    /// Returns every claim of a session that ended to its queue; the queues that got items back.
    pub fn release_session(&mut self, session: u64) -> Vec<String> {
        let mut touched = Vec::new();
        for (name, q) in self.queues.iter_mut() {
            let mut any = false;
            for item in q.items.values_mut() {
                if item.claimed_by == Some(session) {
                    item.claimed_by = None;
                    any = true;
                }
            }
            if any {
                touched.push(name.clone());
            }
        }
        touched
    }

    /// Items not yet acknowledged, claimed or not; dead letters are not counted.
    pub fn size(&self, queue: &str) -> u64 {
        self.queues.get(queue).map_or(0, |q| q.items.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed_id(outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Claimed { id, .. } => id,
            other => panic!("expected a claim, got {other:?}"),
        }
    }

    #[test]
    fn items_are_claimed_in_offer_order_one_holder_at_a_time() {
        let mut q = Queues::default();
        q.offer("hl7", b"a");
        q.offer("hl7", b"b");
        let first = claimed_id(q.claim("hl7", 1));
        let second = claimed_id(q.claim("hl7", 2));
        assert!(first < second);
        assert_eq!(q.claim("hl7", 3), Outcome::Empty);
        assert_eq!(q.settle("hl7", 2, first, true), Outcome::NotOwner);
        assert_eq!(q.settle("hl7", 1, first, true), Outcome::Done);
        assert_eq!(q.size("hl7"), 1);
    }

    #[test]
    fn an_unreadable_item_set_aside_leaves_the_line_and_only_its_holder_may() {
        let mut q = Queues::default();
        q.offer("hl7", b"garbled");
        q.offer("hl7", b"fine");
        let bad = claimed_id(q.claim("hl7", 1));
        assert_eq!(q.set_aside("hl7", 2, bad, "x", 5, "b"), Outcome::NotOwner);
        assert_eq!(
            q.set_aside("hl7", 1, bad, "refused class", 5, "a"),
            Outcome::SetAside { displaced: None }
        );
        assert_eq!(q.size("hl7"), 1);
        let next = q.claim("hl7", 1);
        assert!(matches!(next, Outcome::Claimed { ref payload, .. } if payload == b"fine"));
        assert_eq!(q.release_session(1), vec!["hl7".to_string()]);
        assert_eq!(
            q.dead_letters("hl7"),
            vec![DeadLetter {
                id: bad,
                payload: b"garbled".to_vec(),
                reason: "refused class".into(),
                at_ms: 5,
                node: "a".into(),
            }]
        );
        assert_eq!(
            q.set_aside("hl7", 1, bad, "again", 6, "a"),
            Outcome::NotOwner
        );
    }

    #[test]
    fn dead_letters_are_bounded_and_cleared_one_or_all() {
        let mut q = Queues::default();
        for _ in 0..=MAX_DEAD_LETTERS {
            q.offer("hl7", b"x");
            let id = claimed_id(q.claim("hl7", 1));
            let displaced = match q.set_aside("hl7", 1, id, "r", 0, "a") {
                Outcome::SetAside { displaced } => displaced,
                other => panic!("expected a dead letter, got {other:?}"),
            };
            assert_eq!(displaced, (id > MAX_DEAD_LETTERS as u64).then_some(1));
        }
        let held = q.dead_letters("hl7");
        assert_eq!(held.len(), MAX_DEAD_LETTERS);
        assert_eq!(held[0].id, 2);
        assert_eq!(
            q.clear_dead_letters("hl7", Some(2)),
            Outcome::Removed { count: 1 }
        );
        assert_eq!(
            q.clear_dead_letters("hl7", Some(2)),
            Outcome::Removed { count: 0 }
        );
        assert_eq!(
            q.clear_dead_letters("hl7", None),
            Outcome::Removed {
                count: MAX_DEAD_LETTERS as u64 - 1
            }
        );
        assert!(q.dead_letters("hl7").is_empty());
        assert_eq!(q.size("hl7"), 0);
    }

    #[test]
    fn a_released_or_orphaned_claim_goes_back_in_its_place() {
        let mut q = Queues::default();
        q.offer("hl7", b"a");
        q.offer("hl7", b"b");
        let a = claimed_id(q.claim("hl7", 1));
        let b = claimed_id(q.claim("hl7", 2));
        assert_eq!(q.release_session(1), vec!["hl7".to_string()]);
        assert_eq!(claimed_id(q.claim("hl7", 3)), a);
        q.settle("hl7", 2, b, false);
        assert_eq!(claimed_id(q.claim("hl7", 3)), b);
    }
}
