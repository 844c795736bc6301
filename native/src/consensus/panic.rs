//! Cluster panic: a node that has had no contact with the majority for longer than the panic
//! timeout stops for good, instead of going on beside the majority. Java threads wait here to
//! call the panic listeners.

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

#[derive(Default)]
pub struct Panic {
    reason: Mutex<Option<String>>,
    raised: Condvar,
}

impl Panic {
    /// Records the panic; true the first time only.
    pub fn raise(&self, reason: String) -> bool {
        let mut current = self.reason.lock();
        if current.is_some() {
            return false;
        }
        *current = Some(reason);
        self.raised.notify_all();
        true
    }

    pub fn reason(&self) -> Option<String> {
        self.reason.lock().clone()
    }

    /// Waits up to `timeout` for a panic and returns its reason.
    pub fn wait(&self, timeout: Duration) -> Option<String> {
        let mut current = self.reason.lock();
        if current.is_none() {
            self.raised.wait_for(&mut current, timeout);
        }
        current.clone()
    }
}
