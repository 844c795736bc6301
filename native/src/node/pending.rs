//! Releases and cancels this node retries in the background because their first answer was lost.
//! Until one lands, the same thread's next request for that lock (which would otherwise find
//! itself still the holder) and this node's `isLocked` wait for it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

#[derive(Default)]
pub struct Pending {
    inflight: Mutex<HashMap<(String, u64), usize>>,
    settled: Condvar,
}

impl Pending {
    pub fn begin(&self, lock: &str, thread: u64) {
        *self
            .inflight
            .lock()
            .entry((lock.to_string(), thread))
            .or_default() += 1;
    }

    pub fn end(&self, lock: &str, thread: u64) {
        let mut inflight = self.inflight.lock();
        let key = (lock.to_string(), thread);
        if let Some(count) = inflight.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                inflight.remove(&key);
            }
        }
        self.settled.notify_all();
    }

    /// Waits until nothing matching `matches` is in flight, or `timeout` passes.
    fn wait(&self, timeout: Duration, matches: impl Fn(&(String, u64)) -> bool) {
        let deadline = Instant::now() + timeout;
        let mut inflight = self.inflight.lock();
        while inflight.keys().any(&matches) {
            if self.settled.wait_until(&mut inflight, deadline).timed_out() {
                return;
            }
        }
    }

    pub fn wait_thread(&self, lock: &str, thread: u64, timeout: Duration) {
        self.wait(timeout, |(l, t)| l == lock && *t == thread)
    }

    pub fn wait_lock(&self, lock: &str, timeout: Duration) {
        self.wait(timeout, |(l, _)| l == lock)
    }
}
