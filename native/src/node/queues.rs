//! Work queues as a node offers them to the Java side: offer, claim (waiting for an offer, not
//! polling), acknowledge or release. A claim belongs to this node's session, so the claims of a
//! node that dies or leaves go back to the queue when its session ends.

use std::time::{Duration, Instant};

use super::Node;
use crate::coordination::{Command, Outcome};
use crate::error::{ClusterError, Result};
use crate::limits::{check_name, check_payload, Named, Payload};

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

    /// Items offered and not yet acknowledged, as this node's replica has them.
    pub fn queue_size(&self, queue: &str) -> Result<u64> {
        check_name(Named::Queue, queue)?;
        self.ensure_open()?;
        Ok(self.consensus.read(|s| s.queue_size(queue)))
    }
}
