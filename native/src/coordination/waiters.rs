//! Java threads waiting on the state machine: for a lock grant, or for a queue to get an item.
//!
//! Lock waits: A thread registers its request before the request is
//! proposed, so a grant applied before the proposal's answer arrives is never missed; the state
//! machine then wakes it on the commit that grants it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitResult {
    Granted(u64),
    Failed(String),
    Pending,
}

#[derive(Default)]
pub struct Waiters {
    slots: Mutex<HashMap<u64, WaitResult>>,
    changed: Condvar,
    /// Per queue, how many times it gained a claimable item; pollers wait for it to move.
    refills: Mutex<HashMap<String, u64>>,
    refilled: Condvar,
}

impl Waiters {
    pub fn register(&self, request: u64) {
        self.slots
            .lock()
            .entry(request)
            .or_insert(WaitResult::Pending);
    }

    pub fn is_registered(&self, request: u64) -> bool {
        self.slots.lock().contains_key(&request)
    }

    pub fn grant(&self, request: u64, fence: u64) {
        let mut slots = self.slots.lock();
        if let Some(slot) = slots.get_mut(&request) {
            *slot = WaitResult::Granted(fence);
            self.changed.notify_all();
        }
    }

    /// Ends every wait with an error: this node's session is gone.
    pub fn fail_all(&self, reason: &str) {
        let mut slots = self.slots.lock();
        for slot in slots.values_mut() {
            *slot = WaitResult::Failed(reason.to_string());
        }
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for the request's outcome; a final outcome removes the request.
    pub fn wait(&self, request: u64, timeout: Duration) -> WaitResult {
        let deadline = Instant::now() + timeout;
        let mut slots = self.slots.lock();
        loop {
            match slots.get(&request).cloned() {
                None => return WaitResult::Failed("the request is not waiting".to_string()),
                Some(WaitResult::Pending) => {
                    if self.changed.wait_until(&mut slots, deadline).timed_out() {
                        return match slots.get(&request) {
                            Some(WaitResult::Pending) | None => WaitResult::Pending,
                            Some(_) => slots.remove(&request).unwrap_or(WaitResult::Pending),
                        };
                    }
                }
                Some(_) => return slots.remove(&request).unwrap_or(WaitResult::Pending),
            }
        }
    }

    pub fn forget(&self, request: u64) {
        self.slots.lock().remove(&request);
    }

    pub fn refill_count(&self, queue: &str) -> u64 {
        self.refills.lock().get(queue).copied().unwrap_or(0)
    }

    pub fn note_refill(&self, queue: &str) {
        *self.refills.lock().entry(queue.to_string()).or_default() += 1;
        self.refilled.notify_all();
    }

    /// Waits until `queue` gains an item after `seen` refills, or `timeout` passes.
    pub fn wait_refill(&self, queue: &str, seen: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut refills = self.refills.lock();
        while refills.get(queue).copied().unwrap_or(0) == seen {
            if self.refilled.wait_until(&mut refills, deadline).timed_out() {
                return refills.get(queue).copied().unwrap_or(0) != seen;
            }
        }
        true
    }
}
