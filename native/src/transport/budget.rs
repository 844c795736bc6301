//! One budget, for the whole process, of the bytes held by frames still being received.
//!
//! A frame's length is declared in its first chunk, but a peer may send part of it and stall;
//! a buffer sized by the declaration would hold 16 MiB per stream for a few bytes sent. So a
//! frame's buffer grows with what arrives, every byte of it counted here until the frame is
//! whole, and a stream whose next chunk would pass the budget is closed: a peer, even one that
//! holds the secret, cannot make the node hold more than this for frames it never finishes.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::StreamError;

/// Eight frames of the largest size at once; ordinary traffic holds a few MiB.
pub const RECEIVE_BUDGET: usize = 128 * 1024 * 1024;

static HELD: AtomicUsize = AtomicUsize::new(0);

/// The bytes one frame in progress holds of the budget; given back when dropped.
#[derive(Default)]
pub struct Held(usize);

impl Held {
    /// Takes `more` bytes of the budget, or fails if that would pass it.
    pub fn grow(&mut self, more: usize) -> Result<(), StreamError> {
        HELD.fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
            held.checked_add(more)
                .filter(|total| *total <= RECEIVE_BUDGET)
        })
        .map_err(|_| StreamError::OverBudget)?;
        self.0 += more;
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// Bytes held by frames being received in this process now.
pub fn held() -> usize {
    HELD.load(Ordering::Acquire)
}

/// Gives the memory of a big buffer that was dropped back to the system. glibc keeps freed
/// memory for reuse, and raises the size above which it maps buffers of their own to the
/// largest it has freed: after a peer left frames of megabytes unfinished, the process kept
/// hundreds of MiB it no longer used.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
