//! The clocks that keep locks exclusive when a node is cut off rather than dead.
//! docs/architecture.md ("Lock sessions and leases") gives the argument; in short:
//!
//! - A node renews its lease every `KEEPALIVE_EVERY` by asking the leader; the leader says yes
//!   only if a quorum confirmed its leadership within `CONFIRMED_WITHIN`. The node's lease then
//!   runs `LEASE` from the moment it *sent* the request, on its own clock.
//! - The leader ends a session when it has had no keepalive from it for `SESSION_EXPIRY`, timed
//!   from receipt on its clock (after a leader change, from the new leader's start; for a
//!   session not renewed yet, from when the leader applied its opening, if that is later).
//! - `SESSION_EXPIRY` exceeds `LEASE + CONFIRMED_WITHIN` by `MARGIN`, so a cut-off holder's
//!   lease has ended before its locks pass on; `LEASE` exceeds a leader failover, so a leader
//!   change does not cost anyone a lock.

use std::time::Duration;

pub const HEARTBEAT_MS: u64 = 100;
pub const ELECTION_MIN_MS: u64 = 400;
pub const ELECTION_MAX_MS: u64 = 800;

pub const KEEPALIVE_EVERY: Duration = Duration::from_millis(200);
/// A keepalive to a leader that froze must not hold up the next one (to the new leader).
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_millis(300);
pub const LEASE: Duration = Duration::from_millis(1800);
pub const CONFIRM_EVERY: Duration = Duration::from_millis(100);
pub const CONFIRMED_WITHIN: Duration = Duration::from_millis(300);
pub const MARGIN: Duration = Duration::from_millis(200);
pub const SESSION_EXPIRY: Duration = Duration::from_millis(1800 + 300 + 200);

/// A waiting lock call rides out a lapsed lease this long (a leader failover on a loaded
/// machine) before it fails.
pub const RIDE_OUT: Duration = Duration::from_secs(3);

/// How long a member must stay down before the leader gives its vote to another node.
pub const REPLACE_AFTER: Duration = Duration::from_secs(3);
pub const RECONCILE_EVERY: Duration = Duration::from_millis(200);
/// How long a proposal may wait for the cluster before the caller gets an error.
pub const PROPOSE_TIMEOUT: Duration = Duration::from_secs(5);
pub const RPC_TIMEOUT: Duration = Duration::from_secs(2);

const _: () = assert!(
    SESSION_EXPIRY.as_millis()
        == LEASE.as_millis() + CONFIRMED_WITHIN.as_millis() + MARGIN.as_millis()
);
