//! Cluster-wide locks as a node offers them to the Java side. Owner = (this node's session, a
//! thread id). Reentrancy is the caller's: each thread asks here only for its first hold.
//! Every call first checks this node's lease: a node cut off from the majority must not act
//! as a holder, since its locks will pass on once its session expires.

use std::time::Duration;

use tokio::time::Instant;

use super::Node;
use crate::consensus::timing::{PROPOSE_TIMEOUT, RIDE_OUT};
use crate::consensus::Decided;
use crate::coordination::{Command, Outcome, Owner, WaitResult};
use crate::error::{ClusterError, Result};

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

    /// Every coordination call starts here: a closed or panicked node refuses, and so does a
    /// node whose lease ran out (it may be cut off from the majority).
    pub(super) fn ensure_lease(&self) -> Result<()> {
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

    /// For a call that waits anyway: a lease lapsed for less than `RIDE_OUT` (a leader
    /// failover) is waited out, within `wait`. Returns whether the lease is valid.
    pub(super) fn await_lease(&self, wait: Duration) -> Result<bool> {
        self.ensure_open()?;
        if self.consensus.panic.reason().is_some() {
            return self.ensure_lease().map(|()| false);
        }
        let until = std::time::Instant::now() + wait;
        loop {
            match self.consensus.lease_lapsed_for() {
                None => return Ok(true),
                Some(lapsed) if lapsed > RIDE_OUT => return Err(self.lost_majority()),
                Some(_) if std::time::Instant::now() >= until => return Ok(false),
                Some(_) => std::thread::sleep(Duration::from_millis(20)),
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

    /// A grant answered by the leader before this replica applied it: remembered until the
    /// replica catches up, so that the holder sees its own hold at once.
    fn granted(&self, lock: &str, thread: u64, fence: u64, index: u64) -> u64 {
        self.recent_grants
            .lock()
            .insert((lock.to_string(), thread), (fence, index));
        fence
    }

    pub(super) fn session_ended(&self) -> ClusterError {
        ClusterError::LostMajority(format!(
            "node '{}' no longer has a lock session: the cluster ended it after losing contact",
            self.name
        ))
    }

    /// One attempt, without queueing: the fence, or `None` when someone else holds the lock.
    pub fn lock_try(&self, lock: &str, thread: u64) -> Result<Option<u64>> {
        self.ensure_lease()?;
        let command = Command::Acquire {
            lock: lock.to_string(),
            owner: self.owner(thread),
            request: rand::random(),
            queue: false,
        };
        let decided = self.decide(command)?;
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
        if !self.await_lease(wait)? {
            return Ok(None);
        }
        let waiters = &self.consensus.waiters;
        if !waiters.is_registered(request) {
            waiters.register(request);
            let command = Command::Acquire {
                lock: lock.to_string(),
                owner: self.owner(thread),
                request,
                queue: true,
            };
            match self.decide(command).map(|d| (d.outcome, d.index)) {
                Ok((Outcome::Granted { fence }, index)) => {
                    waiters.forget(request);
                    return Ok(Some(self.granted(lock, thread, fence, index)));
                }
                Ok((Outcome::Queued, _)) => {}
                Ok((Outcome::NoSession, _)) => {
                    waiters.forget(request);
                    return Err(self.session_ended());
                }
                Ok((other, _)) => {
                    waiters.forget(request);
                    return Err(ClusterError::Protocol(format!(
                        "unexpected outcome {other:?}"
                    )));
                }
                Err(e) => {
                    // The request may have been queued anyway; withdraw it before giving up.
                    waiters.forget(request);
                    let _ = self.lock_cancel(lock, thread, request);
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
        self.consensus.waiters.forget(request);
        let command = Command::Cancel {
            lock: lock.to_string(),
            owner: self.owner(thread),
            request,
        };
        self.propose(command).map(|_| ())
    }

    /// Releases a hold. `Ok(false)`: the cluster no longer records this holder with this fence.
    pub fn lock_release(&self, lock: &str, thread: u64, fence: u64) -> Result<bool> {
        self.ensure_open()?;
        self.recent_grants
            .lock()
            .remove(&(lock.to_string(), thread));
        if !self.consensus.lease_valid() {
            return Ok(false);
        }
        let command = Command::Release {
            lock: lock.to_string(),
            owner: self.owner(thread),
            fence,
        };
        match self.propose(command.clone()) {
            Ok(outcome) => Ok(outcome == Outcome::Done),
            // The first answer was lost: a retry that finds the lock no longer ours means the
            // first attempt released it.
            Err(ClusterError::Unavailable(_)) => Ok(matches!(
                self.propose(command)?,
                Outcome::Done | Outcome::NotOwner
            )),
            Err(e) => Err(e),
        }
    }

    /// Local, no network: whether this node's lease is valid and the hold is known here (in
    /// the replica, or granted and not yet applied to it).
    pub fn lock_held(&self, lock: &str, thread: u64, fence: u64) -> bool {
        if !self.consensus.lease_valid() {
            return false;
        }
        let key = (lock.to_string(), thread);
        let mut recent = self.recent_grants.lock();
        if let Some((granted, index)) = recent.get(&key).copied() {
            if self.consensus.applied_index() < index {
                return granted == fence;
            }
            recent.remove(&key);
        }
        drop(recent);
        let owner = self.owner(thread);
        self.consensus.read(|s| s.holds(lock, owner, fence))
    }

    /// Linearizable: whether anyone in the cluster holds the lock.
    pub fn lock_is_locked(&self, lock: &str) -> Result<bool> {
        self.ensure_lease()?;
        let consensus = &self.consensus;
        self.run(async move { consensus.is_locked(lock).await })
    }

    /// ShedLock: takes `name` until `until_ms` if it is free at `now_ms`.
    pub fn shed_lock(&self, name: &str, now_ms: u64, until_ms: u64) -> Result<bool> {
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
        self.ensure_open()?;
        let command = Command::ShedUnlock {
            name: name.to_string(),
            session: self.consensus.session(),
            at_ms,
        };
        self.propose(command).map(|_| ())
    }
}
