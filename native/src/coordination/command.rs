use serde::{Deserialize, Serialize};

use crate::limits::{check_name, check_payload, check_text, LimitError, Named, Payload};

/// A lock owner: a node's session and one Java thread of that node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    pub session: u64,
    pub thread: u64,
}

/// A change to the coordination state, proposed by a node and applied in log order everywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    OpenSession {
        session: u64,
        node: String,
    },
    /// Ends a session: its locks pass to their next waiters, its queued requests go.
    CloseSession {
        session: u64,
        reason: String,
    },
    /// Asks for a lock; with `queue` the request waits in FIFO order when the lock is taken.
    Acquire {
        lock: String,
        owner: Owner,
        request: u64,
        queue: bool,
    },
    Release {
        lock: String,
        owner: Owner,
        fence: u64,
    },
    /// Withdraws a request; if it was granted meanwhile, releases the grant.
    Cancel {
        lock: String,
        owner: Owner,
        request: u64,
    },
    /// ShedLock: take `name` until `until_ms` if it is free at `now_ms` (wall clock of the
    /// proposer, as ShedLock's own providers use the application's clock).
    ShedLock {
        name: String,
        session: u64,
        now_ms: u64,
        until_ms: u64,
    },
    ShedUnlock {
        name: String,
        session: u64,
        at_ms: u64,
    },
    Offer {
        queue: String,
        /// As bytes, not a sequence of numbers: the same encoding, copied at once instead of a
        /// byte at a time (a 1 MiB item has to reach a follower within a heartbeat).
        #[serde(with = "serde_bytes")]
        payload: Vec<u8>,
    },
    Claim {
        queue: String,
        session: u64,
    },
    /// Acknowledges (`done`) or releases a claimed item.
    Settle {
        queue: String,
        session: u64,
        id: u64,
        done: bool,
    },
    /// Moves a claimed item its holder cannot read to the queue's dead letters, so that it no
    /// longer blocks the line; `at_ms` is the proposer's wall clock, which the dead letter shows.
    SetAside {
        queue: String,
        session: u64,
        id: u64,
        reason: String,
        at_ms: u64,
    },
    /// Removes the dead letter `id`, or every dead letter of the queue with `None`.
    ClearDeadLetters {
        queue: String,
        id: Option<u64>,
    },
    JoinSchedule {
        name: String,
        session: u64,
    },
    WithdrawSchedule {
        name: String,
        session: u64,
    },
    /// Run period number `period` of a schedule whose periods last `period_ms` (so the
    /// period began at `period * period_ms`, epoch milliseconds, on the proposer's clock).
    RunPeriod {
        name: String,
        session: u64,
        period: u64,
        period_ms: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Done,
    Granted {
        fence: u64,
    },
    Queued,
    Busy,
    NotOwner,
    /// The session is not open (never opened, closed, or expired).
    NoSession,
    ShedLocked(bool),
    Offered {
        id: u64,
    },
    Claimed {
        id: u64,
        #[serde(with = "serde_bytes")]
        payload: Vec<u8>,
    },
    Empty,
    AlreadyRan,
    /// An item became a dead letter; `displaced`: the one dropped to keep the bound, if any.
    SetAside {
        displaced: Option<u64>,
    },
    Removed {
        count: u64,
    },
}

/// What applying a command changed that local waiters care about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub grants: Vec<Grant>,
    /// Queues that gained an item to claim (an offer, a release, an orphaned claim).
    pub refilled: Vec<String>,
}

/// A grant made while applying a command, to be announced to the waiting thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub lock: String,
    pub owner: Owner,
    pub request: u64,
    pub fence: u64,
}

impl Command {
    /// The wall-clock time (epoch milliseconds) the command carries from its proposer's clock,
    /// which the state machine compares with other nodes' times (see `clocks`).
    pub fn proposers_time_ms(&self) -> Option<u64> {
        match self {
            Command::RunPeriod {
                period, period_ms, ..
            } => Some(period.saturating_mul(*period_ms)),
            Command::ShedLock { now_ms, .. } => Some(*now_ms),
            _ => None,
        }
    }

    /// Whether every name and payload of the command is within its limit (`limits`): the node
    /// API checks the caller's input, and the leader every command before proposing it.
    pub fn check_limits(&self) -> Result<(), LimitError> {
        match self {
            Command::OpenSession { node, .. } => check_text("a node name", node),
            Command::CloseSession { reason, .. } => {
                check_text("the reason a session ended", reason)
            }
            Command::Acquire { lock, .. }
            | Command::Release { lock, .. }
            | Command::Cancel { lock, .. } => check_name(Named::Lock, lock),
            Command::ShedLock { name, .. } | Command::ShedUnlock { name, .. } => {
                check_name(Named::Lock, name)
            }
            Command::Offer { queue, payload } => {
                check_name(Named::Queue, queue)?;
                check_payload(Payload::QueueItem, payload.len(), queue)
            }
            Command::Claim { queue, .. }
            | Command::Settle { queue, .. }
            | Command::ClearDeadLetters { queue, .. } => check_name(Named::Queue, queue),
            Command::SetAside { queue, reason, .. } => {
                check_name(Named::Queue, queue)?;
                check_text("the reason an item was set aside", reason)
            }
            Command::JoinSchedule { name, .. }
            | Command::WithdrawSchedule { name, .. }
            | Command::RunPeriod { name, .. } => check_name(Named::Schedule, name),
        }
    }
}
