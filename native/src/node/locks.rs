//! Cluster-wide locks as a node offers them to the Java side. Owner = (this node's session, a
//! thread id). Reentrancy is the caller's: each thread asks here only for its first hold.
//! Every call first checks this node's lease: a node cut off from the majority must not act
//! as a holder, since its locks will pass on once its session expires.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Node;
use crate::consensus::timing::{PROPOSE_TIMEOUT, RIDE_OUT, SESSION_EXPIRY};
use crate::consensus::{Consensus, Decided};
use crate::coordination::{Command, Outcome, Owner, WaitResult};
use crate::error::{ClusterError, Result};
use crate::limits::{check_name, Named};

/// How long a release or cancel whose answer was lost keeps being retried: past two session
/// expiries the session is gone and its holds with it.
const CLEAN_UP_FOR: Duration = Duration::from_millis(2 * SESSION_EXPIRY.as_millis() as u64);

/// Proposes `command` until the cluster answers or the session cannot hold anything any more.
async fn settle(consensus: Arc<Consensus>, command: Command) {
    let deadline = Instant::now() + CLEAN_UP_FOR;
    while Instant::now() < deadline {
        match consensus.propose(command.clone(), deadline).await {
            Ok(_) => return,
            Err(e) => tracing::debug!(error = %e, ?command, "retrying a release"),
        }
    }
    tracing::warn!(
        ?command,
        "a release got no answer; the lock passes on when the session ends"
    );
}

impl Node {
    fn owner(&self, thread: u64) -> Owner {
        Owner {
            session: self.consensus.session(),
            thread,
        }
    }

    fn lost_majority(&self) -> ClusterError {
        ClusterError::LostMajority(format!(
            "node '{}' has lost contact with the majority of the cluster; lock calls fail until it is back",
            self.name
        ))
    }

    /// Whether this node may act on its session now: open, not panicked, lease valid.
    fn check_lease(&self) -> Result<()> {
        self.ensure_open()?;
        if let Some(reason) = self.consensus.panic.reason() {
            return Err(ClusterError::Panicked(format!(
                "node '{}' is in panic: {reason}",
                self.name
            )));
        }
        if self.consensus.lease_valid() {
            Ok(())
        } else {
            Err(self.lost_majority())
        }
    }

    /// Every coordination call starts here: a closed or panicked node refuses, and so does a
    /// node whose lease stays lapsed (it may be cut off from the majority). A lapse shorter
    /// than `RIDE_OUT` (a leader failover, a loaded machine) costs latency, not an error.
    pub(super) fn ensure_lease(&self) -> Result<()> {
        if self.await_lease(PROPOSE_TIMEOUT)? {
            Ok(())
        } else {
            Err(self.lost_majority())
        }
    }

    /// Waits up to `wait` for a lease lapsed for less than `RIDE_OUT` to come back. Returns
    /// whether the lease is valid; fails at once when the lapse is longer, or on panic or close.
    pub(super) fn await_lease(&self, wait: Duration) -> Result<bool> {
        let until = std::time::Instant::now() + wait;
        loop {
            match self.check_lease() {
                Ok(()) => return Ok(true),
                Err(ClusterError::LostMajority(_))
                    if self
                        .consensus
                        .lease_lapsed_for()
                        .is_none_or(|l| l <= RIDE_OUT) =>
                {
                    if std::time::Instant::now() >= until {
                        return Ok(false);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn propose(&self, command: Command) -> Result<Outcome> {
        self.decide(command).map(|d| d.outcome)
    }

    fn decide(&self, command: Command) -> Result<Decided> {
        let consensus = &self.consensus;
        self.run(async move {
            consensus
                .propose(command, Instant::now() + PROPOSE_TIMEOUT)
                .await
        })
    }

    /// Proposes `command` in the background until it lands (a release, or the cancel of a
    /// request whose answer was lost), so that no hold stays recorded without a Java owner.
    fn settle_in_background(&self, lock: &str, thread: u64, command: Command) {
        let runtime = self.runtime.read();
        let Some(rt) = runtime.as_ref() else {
            return;
        };
        let (consensus, pending) = (Arc::clone(&self.consensus), Arc::clone(&self.pending));
        let (lock, thread_id) = (lock.to_string(), thread);
        pending.begin(&lock, thread_id);
        rt.spawn(async move {
            settle(consensus, command).await;
            pending.end(&lock, thread_id);
        });
    }

    /// A grant answered by the leader before this replica applied it: remembered until the
    /// replica catches up, so that the holder sees its own hold at once.
    fn granted(&self, lock: &str, thread: u64, fence: u64, index: u64) -> u64 {
        let session = self.consensus.session();
        self.recent_grants
            .lock()
            .insert((lock.to_string(), thread), (session, fence, index));
        fence
    }

    pub(super) fn session_ended(&self) -> ClusterError {
        ClusterError::LostMajority(format!(
            "node '{}' no longer has a lock session: the cluster ended it after losing contact",
            self.name
        ))
    }

    fn cancel_command(&self, lock: &str, thread: u64, request: u64) -> Command {
        Command::Cancel {
            lock: lock.to_string(),
            owner: self.owner(thread),
            request,
        }
    }

    /// One attempt, without queueing: the fence, or `None` when someone else holds the lock.
    pub fn lock_try(&self, lock: &str, thread: u64) -> Result<Option<u64>> {
        check_name(Named::Lock, lock)?;
        self.ensure_lease()?;
        self.pending.wait_thread(lock, thread, PROPOSE_TIMEOUT);
        let request = rand::random();
        let command = Command::Acquire {
            lock: lock.to_string(),
            owner: self.owner(thread),
            request,
            queue: false,
        };
        let decided = match self.decide(command) {
            Ok(decided) => decided,
            Err(e) => {
                // The grant may have happened with its answer lost.
                self.settle_in_background(lock, thread, self.cancel_command(lock, thread, request));
                return Err(e);
            }
        };
        match decided.outcome {
            Outcome::Granted { fence } => {
                Ok(Some(self.granted(lock, thread, fence, decided.index)))
            }
            Outcome::Busy => Ok(None),
            Outcome::NoSession => Err(self.session_ended()),
            other => Err(ClusterError::Protocol(format!(
                "unexpected outcome {other:?}"
            ))),
        }
    }

    /// Joins the lock's queue under `request` (on the first call for it) and waits up to `wait`
    /// for the grant: the fence, or `None` if `wait` passed first (the request stays queued).
    pub fn lock_acquire(
        &self,
        lock: &str,
        thread: u64,
        request: u64,
        wait: Duration,
    ) -> Result<Option<u64>> {
        check_name(Named::Lock, lock)?;
        if !self.await_lease(wait)? {
            return Ok(None);
        }
        let waiters = &self.consensus.waiters;
        if !waiters.is_registered(request) {
            self.pending.wait_thread(lock, thread, PROPOSE_TIMEOUT);
            waiters.register(request);
            let command = Command::Acquire {
                lock: lock.to_string(),
                owner: self.owner(thread),
                request,
                queue: true,
            };
            let outcome = self.decide(command);
            if !matches!(&outcome, Ok(d) if d.outcome == Outcome::Queued) {
                waiters.forget(request);
            }
            match outcome {
                Ok(Decided {
                    outcome: Outcome::Granted { fence },
                    index,
                }) => return Ok(Some(self.granted(lock, thread, fence, index))),
                Ok(Decided {
                    outcome: Outcome::Queued,
                    ..
                }) => {}
                Ok(Decided {
                    outcome: Outcome::NoSession,
                    ..
                }) => return Err(self.session_ended()),
                Ok(other) => {
                    return Err(ClusterError::Protocol(format!(
                        "unexpected outcome {other:?}"
                    )))
                }
                Err(e) => {
                    // The request may have been queued or granted anyway: withdraw it.
                    self.settle_in_background(
                        lock,
                        thread,
                        self.cancel_command(lock, thread, request),
                    );
                    return Err(e);
                }
            }
        }
        match waiters.wait(request, wait) {
            WaitResult::Granted(fence) => Ok(Some(fence)),
            WaitResult::Pending => Ok(None),
            WaitResult::Failed(reason) => Err(ClusterError::LostMajority(reason)),
        }
    }

    /// Withdraws a request; if it was granted meanwhile, that grant is released.
    pub fn lock_cancel(&self, lock: &str, thread: u64, request: u64) -> Result<()> {
        check_name(Named::Lock, lock)?;
        self.consensus.waiters.forget(request);
        if let Err(e) = self.propose(self.cancel_command(lock, thread, request)) {
            self.settle_in_background(lock, thread, self.cancel_command(lock, thread, request));
            return Err(e);
        }
        Ok(())
    }

    /// Releases a hold. `Ok(false)`: this node no longer held it validly (lost lease or
    /// session). The release is sent either way, and retried in the background when its answer
    /// is lost, so that a hold the cluster still records does not outlive its Java owner.
    pub fn lock_release(&self, lock: &str, thread: u64, fence: u64) -> Result<bool> {
        check_name(Named::Lock, lock)?;
        // A lease lapsed by a leader failover comes back; one lapsed for good does not.
        let _ = self.await_lease(PROPOSE_TIMEOUT);
        self.ensure_open()?;
        let held = self.lock_held(lock, thread, fence);
        self.recent_grants
            .lock()
            .remove(&(lock.to_string(), thread));
        let command = Command::Release {
            lock: lock.to_string(),
            owner: self.owner(thread),
            fence,
        };
        if !held {
            self.settle_in_background(lock, thread, command);
            return Ok(false);
        }
        match self.propose(command.clone()) {
            Ok(outcome) => Ok(outcome == Outcome::Done),
            Err(ClusterError::Unavailable(_)) => {
                self.settle_in_background(lock, thread, command);
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Local, no network: whether this node's lease is valid and the hold is known here (in
    /// the replica, or granted and not yet applied to it).
    pub fn lock_held(&self, lock: &str, thread: u64, fence: u64) -> bool {
        if !self.consensus.lease_valid() {
            return false;
        }
        let session = self.consensus.session();
        let key = (lock.to_string(), thread);
        let mut recent = self.recent_grants.lock();
        if let Some((granted_to, granted, index)) = recent.get(&key).copied() {
            if granted_to == session && self.consensus.applied_index() < index {
                return granted == fence;
            }
            recent.remove(&key);
        }
        drop(recent);
        let owner = self.owner(thread);
        self.consensus.read(|s| s.holds(lock, owner, fence))
    }

    /// Linearizable: whether anyone in the cluster holds the lock (after this node's own
    /// releases of it have landed).
    pub fn lock_is_locked(&self, lock: &str) -> Result<bool> {
        check_name(Named::Lock, lock)?;
        self.ensure_lease()?;
        self.pending.wait_lock(lock, PROPOSE_TIMEOUT);
        let consensus = &self.consensus;
        self.run(async move { consensus.is_locked(lock).await })
    }

    /// ShedLock: takes `name` until `until_ms` if it is free at `now_ms`.
    pub fn shed_lock(&self, name: &str, now_ms: u64, until_ms: u64) -> Result<bool> {
        check_name(Named::Lock, name)?;
        self.ensure_lease()?;
        let command = Command::ShedLock {
            name: name.to_string(),
            session: self.consensus.session(),
            now_ms,
            until_ms,
        };
        match self.propose(command)? {
            Outcome::ShedLocked(taken) => Ok(taken),
            Outcome::NoSession => Err(self.session_ended()),
            other => Err(ClusterError::Protocol(format!(
                "unexpected outcome {other:?}"
            ))),
        }
    }

    pub fn shed_unlock(&self, name: &str, at_ms: u64) -> Result<()> {
        check_name(Named::Lock, name)?;
        self.ensure_open()?;
        let command = Command::ShedUnlock {
            name: name.to_string(),
            session: self.consensus.session(),
            at_ms,
        };
        self.propose(command).map(|_| ())
    }
}
