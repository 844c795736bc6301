//! Work queues: items in the order they were offered, each claimed by one session at a time
//! until it is acknowledged (gone) or released (back in its place in line).

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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Queue {
    /// Ids grow with every offer, so id order is offer order.
    next_id: u64,
    items: BTreeMap<u64, Item>,
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

    /// Items not yet acknowledged, claimed or not.
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
