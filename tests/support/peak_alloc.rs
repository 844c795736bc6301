//! A global allocator that counts what each thread holds, so that a test can measure the most
//! bytes a call held at once: the allocation bound of decoding, checked by tests/decode_alloc.rs
//! and by the fuzz targets on every input (tests/fuzz). A binary that includes this module
//! installs `Counting` as its `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    /// Bytes held and the most held since the measurement began; None outside a measurement.
    static HELD: Cell<Option<(isize, isize)>> = const { Cell::new(None) };
}

fn note(delta: isize) {
    // A thread being torn down has no slot left; nothing is measured there.
    let _ = HELD.try_with(|held| {
        if let Some((now, peak)) = held.get() {
            let now = now + delta;
            held.set(Some((now, peak.max(now))));
        }
    });
}

// SAFETY: every call goes to the system allocator unchanged; only sizes are noted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            note(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Runs `f` and returns the most bytes it held at once on this thread.
pub fn peak_during(f: impl FnOnce()) -> usize {
    HELD.with(|held| held.set(Some((0, 0))));
    f();
    let (_, peak) = HELD.with(|held| held.replace(None)).unwrap_or_default();
    peak.max(0) as usize
}

/// Bytes a decoder may hold per byte of its input. Measured: a valid frame of 10,000 blank Raft
/// entries or empty events decodes to 20-21 times its size in memory (an entry is 80 bytes in
/// memory, 4 on the wire); a string may also claim up to 32 times the input under bincode's
/// limit (wire::decode_prefix).
pub const PER_BYTE: usize = 64;
/// Bytes a decoder may hold whatever its input. Measured: 1 MiB and a little for ten bytes of
/// input, since serde reserves up to 1 MiB for a sequence on the length it declares; sequences
/// nest two deep at most in what is decoded (a Raft entry's membership in an append), and a
/// string may claim 64 KiB under the smallest limit.
pub const BASE: usize = 3 << 20;

/// The most a decoder may hold at once for `input_len` bytes of input.
pub fn allowed(input_len: usize) -> usize {
    PER_BYTE * input_len + BASE
}
