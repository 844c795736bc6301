//! What the cluster decides by consensus: lock sessions, lock ownership with fences, ShedLock
//! holds. Every type here is plain data applied deterministically by the Raft state machine on
//! every node, so all replicas agree; nothing here does I/O.

mod command;
mod locks;
mod waiters;

pub use command::{Command, Grant, Outcome, Owner};
pub use locks::CoordinationState;
pub use waiters::{WaitResult, Waiters};
