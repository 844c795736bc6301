//! What the cluster decides by consensus: lock sessions, lock ownership with fences, ShedLock
//! holds, work queues and singleton schedules. Every type here is plain data applied deterministically by the Raft state machine on
//! every node, so all replicas agree; nothing here does I/O.

mod command;
mod queues;
mod schedules;
mod state;
mod waiters;

pub use command::{Command, Effects, Grant, Outcome, Owner};
pub use queues::{DeadLetter, MAX_DEAD_LETTERS};
pub use state::CoordinationState;
pub use waiters::{WaitResult, Waiters};
