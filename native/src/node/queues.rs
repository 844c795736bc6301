//! Work queues as a node offers them to the Java side: offer, claim (waiting for an offer, not
//! polling), acknowledge or release, or set aside as a dead letter an item Java cannot read. A
//! claim belongs to this node's session, so the claims of a node that dies or leaves go back to
//! the queue when its session ends.

use std::time::{Duration, Instant};

use super::Node;
use crate::coordination::{Command, DeadLetter, Outcome, MAX_DEAD_LETTERS};
use crate::error::{ClusterError, Result};
use crate::limits::{check_name, check_payload, Named, Payload, MAX_TEXT_BYTES};

fn unexpected(outcome: Outcome) -> ClusterError {
    ClusterError::Protocol(format!("unexpected outcome {outcome:?}"))
}

impl Node {
    pub fn queue_offer(&self, queue: &str, payload: &[u8]) -> Result<()> {
        check_name(Named::Queue, queue)?;
        check_payload(Payload::QueueItem, payload.len(), queue)?;
        self.ensure_lease()?;
        let command = Command::Offer {
            queue: queue.to_string(),
            payload: payload.to_vec(),
        };
        match self.propose(command)? {
            Outcome::Offered { .. } => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Claims the oldest unclaimed item, waiting up to `wait` for one: (claim id, payload).
    pub fn queue_poll(&self, queue: &str, wait: Duration) -> Result<Option<(u64, Vec<u8>)>> {
        check_name(Named::Queue, queue)?;
        let deadline = Instant::now() + wait;
        let waiters = &self.consensus.waiters;
        loop {
            self.ensure_lease()?;
            let seen = waiters.refill_count(queue);
            let command = Command::Claim {
                queue: queue.to_string(),
                session: self.consensus.session(),
            };
            match self.propose(command)? {
                Outcome::Claimed { id, payload } => return Ok(Some((id, payload))),
                Outcome::Empty => {}
                Outcome::NoSession => return Err(self.session_ended()),
                other => return Err(unexpected(other)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            waiters.wait_refill(queue, seen, left);
        }
    }

    /// Acknowledges (`done`) or releases a claim. `Ok(false)`: this node no longer holds it
    /// (its session ended and the item went back to the queue).
    pub fn queue_settle(&self, queue: &str, id: u64, done: bool) -> Result<bool> {
        check_name(Named::Queue, queue)?;
        self.ensure_lease()?;
        let command = Command::Settle {
            queue: queue.to_string(),
            session: self.consensus.session(),
            id,
            done,
        };
        Ok(self.propose(command)? == Outcome::Done)
    }

    /// Moves a claim this node cannot read to its queue's dead letters with `reason` (cut to
    /// `limits::MAX_TEXT_BYTES`), set aside at `at_ms` on this node's wall clock. `Ok(false)`: this
    /// node no longer holds the claim.
    pub fn queue_set_aside(&self, queue: &str, id: u64, reason: &str, at_ms: u64) -> Result<bool> {
        self.ensure_lease()?;
        let command = Command::SetAside {
            queue: queue.to_string(),
            session: self.consensus.session(),
            id,
            reason: cut(reason, MAX_TEXT_BYTES).to_string(),
            at_ms,
        };
        match self.propose(command)? {
            Outcome::SetAside { displaced } => {
                if let Some(old) = displaced {
                    tracing::warn!(
                        "queue '{queue}' holds {MAX_DEAD_LETTERS} dead letters, its most: dead letter {old} was \
                         dropped to keep item {id}"
                    );
                }
                Ok(true)
            }
            Outcome::NotOwner | Outcome::NoSession => Ok(false),
            other => Err(unexpected(other)),
        }
    }

    /// The queue's dead letters as this node's replica has them, the first offered first.
    pub fn queue_dead_letters(&self, queue: &str) -> Result<Vec<DeadLetter>> {
        self.ensure_open()?;
        Ok(self.consensus.read(|s| s.dead_letters(queue)))
    }

    /// Removes the dead letter `id`, or all of the queue's with `None`; how many went.
    pub fn queue_clear_dead_letters(&self, queue: &str, id: Option<u64>) -> Result<u64> {
        self.ensure_lease()?;
        let command = Command::ClearDeadLetters {
            queue: queue.to_string(),
            id,
        };
        match self.propose(command)? {
            Outcome::Removed { count } => Ok(count),
            other => Err(unexpected(other)),
        }
    }

    /// Items offered and not yet acknowledged, as this node's replica has them.
    pub fn queue_size(&self, queue: &str) -> Result<u64> {
        check_name(Named::Queue, queue)?;
        self.ensure_open()?;
        Ok(self.consensus.read(|s| s.queue_size(queue)))
    }
}

/// The longest start of `text` within `max` bytes that ends on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn a_reason_is_cut_on_a_character_boundary() {
        assert_eq!(cut("abc", 8), "abc");
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("é", 1), "");
        assert_eq!(cut("aé", 2), "a");
    }
}
