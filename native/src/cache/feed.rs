//! What the Java near caches must drop: keys this node's store changed other than by a local
//! write (a peer's write, an eviction, an expiry). A Java thread drains it; it never blocks a
//! writer. Past its bound it collapses into "drop everything" for each opened cache, which is
//! always safe for a near cache.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};

const MAX_PENDING: usize = 65_536;

/// (cache id, key); no key means the whole cache.
pub type Invalidation = (u64, Option<Bytes>);

#[derive(Default)]
pub struct Feed {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
struct State {
    pending: VecDeque<Invalidation>,
    closed: bool,
}

impl Feed {
    pub fn push(
        &self,
        items: impl IntoIterator<Item = Invalidation>,
        all_ids: impl Fn() -> Vec<u64>,
    ) {
        let mut state = self.state.lock();
        state.pending.extend(items);
        if state.pending.len() > MAX_PENDING {
            state.pending.clear();
            state
                .pending
                .extend(all_ids().into_iter().map(|id| (id, None)));
        }
        self.ready.notify_one();
    }

    /// Up to `max` items, waiting up to `timeout` for the first; None once closed.
    pub fn poll(&self, timeout: Duration, max: usize) -> Option<Vec<Invalidation>> {
        let mut state = self.state.lock();
        if state.pending.is_empty() && !state.closed {
            self.ready.wait_for(&mut state, timeout);
        }
        if state.closed {
            return None;
        }
        let n = state.pending.len().min(max);
        Some(state.pending.drain(..n).collect())
    }

    pub fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_all();
    }
}
