//! The coordination state: sessions, the lock table, queues and schedules. Fences come from one counter per lock name that never goes back, kept even
//! while the lock is free, so a fence is strictly greater than every fence granted before it
//! for that name, over the cluster's whole life.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::queues::{DeadLetter, Queues};
use super::schedules::Schedules;
use super::{Command, Effects, Grant, Outcome, Owner};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Holder {
    owner: Owner,
    request: u64,
    fence: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Waiter {
    owner: Owner,
    request: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct LockEntry {
    holder: Option<Holder>,
    waiters: VecDeque<Waiter>,
    last_fence: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ShedHold {
    session: u64,
    until_ms: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinationState {
    /// Open sessions and the node each belongs to.
    sessions: BTreeMap<u64, String>,
    locks: BTreeMap<String, LockEntry>,
    shed: BTreeMap<String, ShedHold>,
    queues: Queues,
    schedules: Schedules,
}

impl LockEntry {
    fn grant(&mut self, owner: Owner, request: u64, lock: &str, grants: &mut Vec<Grant>) -> u64 {
        self.last_fence += 1;
        let fence = self.last_fence;
        self.holder = Some(Holder {
            owner,
            request,
            fence,
        });
        grants.push(Grant {
            lock: lock.to_string(),
            owner,
            request,
            fence,
        });
        fence
    }

    /// Frees the lock and hands it to the first waiter whose session is still open.
    fn pass_on(&mut self, lock: &str, sessions: &BTreeMap<u64, String>, grants: &mut Vec<Grant>) {
        self.holder = None;
        while let Some(next) = self.waiters.pop_front() {
            if sessions.contains_key(&next.owner.session) {
                self.grant(next.owner, next.request, lock, grants);
                return;
            }
        }
    }
}

impl CoordinationState {
    /// Applies one command; returns its outcome and what it changed for local waiters.
    pub fn apply(&mut self, command: &Command) -> (Outcome, Effects) {
        let mut effects = Effects::default();
        let grants = &mut effects.grants;
        let outcome = match command {
            Command::OpenSession { session, node } => {
                self.sessions.insert(*session, node.clone());
                Outcome::Done
            }
            Command::CloseSession { session, .. } => {
                if self.sessions.remove(session).is_some() {
                    self.release_locks(*session, grants);
                    effects.refilled = self.queues.release_session(*session);
                    self.schedules.release_session(*session);
                }
                Outcome::Done
            }
            Command::Acquire {
                lock,
                owner,
                request,
                queue,
            } => self.acquire(lock, *owner, *request, *queue, grants),
            Command::Release { lock, owner, fence } => self.release(lock, *owner, *fence, grants),
            Command::Cancel {
                lock,
                owner,
                request,
            } => self.cancel(lock, *owner, *request, grants),
            Command::ShedLock {
                name,
                session,
                now_ms,
                until_ms,
            } => self.shed_lock(name, *session, *now_ms, *until_ms),
            Command::ShedUnlock {
                name,
                session,
                at_ms,
            } => {
                if let Some(hold) = self.shed.get_mut(name) {
                    if hold.session == *session {
                        hold.until_ms = *at_ms;
                    }
                }
                Outcome::Done
            }
            Command::Offer { queue, payload } => {
                effects.refilled.push(queue.clone());
                self.queues.offer(queue, payload)
            }
            Command::Claim { queue, session } => {
                self.with_session(*session, |s| s.queues.claim(queue, *session))
            }
            Command::Settle {
                queue,
                session,
                id,
                done,
            } => {
                let outcome = self.queues.settle(queue, *session, *id, *done);
                if !done && outcome == Outcome::Done {
                    effects.refilled.push(queue.clone());
                }
                outcome
            }
            Command::SetAside {
                queue,
                session,
                id,
                reason,
                at_ms,
            } => match self.sessions.get(session) {
                Some(node) => self
                    .queues
                    .set_aside(queue, *session, *id, reason, *at_ms, node),
                None => Outcome::NoSession,
            },
            Command::ClearDeadLetters { queue, id } => self.queues.clear_dead_letters(queue, *id),
            Command::JoinSchedule { name, session } => {
                self.with_session(*session, |s| s.schedules.join(name, *session))
            }
            Command::WithdrawSchedule { name, session } => self.schedules.withdraw(name, *session),
            Command::RunPeriod {
                name,
                session,
                period,
                ..
            } => self.with_session(*session, |s| s.schedules.run(name, *session, *period)),
        };
        (outcome, effects)
    }

    fn with_session(&mut self, session: u64, f: impl FnOnce(&mut Self) -> Outcome) -> Outcome {
        if self.sessions.contains_key(&session) {
            f(self)
        } else {
            Outcome::NoSession
        }
    }

    fn acquire(
        &mut self,
        lock: &str,
        owner: Owner,
        request: u64,
        queue: bool,
        grants: &mut Vec<Grant>,
    ) -> Outcome {
        if !self.sessions.contains_key(&owner.session) {
            return Outcome::NoSession;
        }
        let entry = self.locks.entry(lock.to_string()).or_default();
        match &entry.holder {
            None => Outcome::Granted {
                fence: entry.grant(owner, request, lock, grants),
            },
            // A retried request (a leader change hid the first answer) gets the same grant.
            Some(h) if h.owner == owner => Outcome::Granted { fence: h.fence },
            Some(_) if queue => {
                if !entry
                    .waiters
                    .iter()
                    .any(|w| w.request == request && w.owner == owner)
                {
                    entry.waiters.push_back(Waiter { owner, request });
                }
                Outcome::Queued
            }
            Some(_) => Outcome::Busy,
        }
    }

    fn release(
        &mut self,
        lock: &str,
        owner: Owner,
        fence: u64,
        grants: &mut Vec<Grant>,
    ) -> Outcome {
        let sessions = &self.sessions;
        match self.locks.get_mut(lock) {
            Some(entry)
                if entry
                    .holder
                    .as_ref()
                    .is_some_and(|h| h.owner == owner && h.fence == fence) =>
            {
                entry.pass_on(lock, sessions, grants);
                Outcome::Done
            }
            _ => Outcome::NotOwner,
        }
    }

    fn cancel(
        &mut self,
        lock: &str,
        owner: Owner,
        request: u64,
        grants: &mut Vec<Grant>,
    ) -> Outcome {
        let sessions = &self.sessions;
        let Some(entry) = self.locks.get_mut(lock) else {
            return Outcome::Done;
        };
        entry
            .waiters
            .retain(|w| !(w.owner == owner && w.request == request));
        if entry
            .holder
            .as_ref()
            .is_some_and(|h| h.owner == owner && h.request == request)
        {
            entry.pass_on(lock, sessions, grants);
        }
        Outcome::Done
    }

    /// Passes on the locks of a session that ended and drops its queued requests and holds.
    fn release_locks(&mut self, session: u64, grants: &mut Vec<Grant>) {
        let sessions = &self.sessions;
        for (name, entry) in self.locks.iter_mut() {
            entry.waiters.retain(|w| w.owner.session != session);
            if entry
                .holder
                .as_ref()
                .is_some_and(|h| h.owner.session == session)
            {
                entry.pass_on(name, sessions, grants);
            }
        }
        self.shed.retain(|_, hold| hold.session != session);
    }

    fn shed_lock(&mut self, name: &str, session: u64, now_ms: u64, until_ms: u64) -> Outcome {
        if !self.sessions.contains_key(&session) {
            return Outcome::NoSession;
        }
        let free = self
            .shed
            .get(name)
            .is_none_or(|hold| hold.until_ms <= now_ms);
        if free {
            self.shed
                .insert(name.to_string(), ShedHold { session, until_ms });
        }
        Outcome::ShedLocked(free)
    }

    pub fn has_session(&self, session: u64) -> bool {
        self.sessions.contains_key(&session)
    }

    pub fn sessions(&self) -> BTreeSet<u64> {
        self.sessions.keys().copied().collect()
    }

    /// Whether `owner` holds `lock` under `fence` in this replica.
    pub fn holds(&self, lock: &str, owner: Owner, fence: u64) -> bool {
        self.locks
            .get(lock)
            .and_then(|e| e.holder.as_ref())
            .is_some_and(|h| h.owner == owner && h.fence == fence)
    }

    pub fn queue_size(&self, queue: &str) -> u64 {
        self.queues.size(queue)
    }

    pub fn dead_letters(&self, queue: &str) -> Vec<DeadLetter> {
        self.queues.dead_letters(queue)
    }

    pub fn schedule_owner(&self, name: &str) -> Option<u64> {
        self.schedules.owner(name)
    }

    pub fn is_locked(&self, lock: &str) -> bool {
        self.locks.get(lock).is_some_and(|e| e.holder.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Owner = Owner {
        session: 1,
        thread: 10,
    };
    const B: Owner = Owner {
        session: 2,
        thread: 20,
    };
    const C: Owner = Owner {
        session: 2,
        thread: 21,
    };

    fn state() -> CoordinationState {
        let mut s = CoordinationState::default();
        for (session, node) in [(1, "a"), (2, "b")] {
            s.apply(&Command::OpenSession {
                session,
                node: node.into(),
            });
        }
        s
    }

    fn acquire(s: &mut CoordinationState, owner: Owner, request: u64) -> (Outcome, Effects) {
        s.apply(&Command::Acquire {
            lock: "l".into(),
            owner,
            request,
            queue: true,
        })
    }

    #[test]
    fn grants_in_fifo_order_with_increasing_fences() {
        let mut s = state();
        assert_eq!(acquire(&mut s, A, 1).0, Outcome::Granted { fence: 1 });
        assert_eq!(acquire(&mut s, B, 2).0, Outcome::Queued);
        assert_eq!(acquire(&mut s, C, 3).0, Outcome::Queued);
        let (out, grants) = s.apply(&Command::Release {
            lock: "l".into(),
            owner: A,
            fence: 1,
        });
        assert_eq!(out, Outcome::Done);
        assert_eq!(grants.grants[0].owner, B);
        assert_eq!(grants.grants[0].fence, 2);
        let (_, grants) = s.apply(&Command::Release {
            lock: "l".into(),
            owner: B,
            fence: 2,
        });
        assert_eq!((grants.grants[0].owner, grants.grants[0].fence), (C, 3));
    }

    #[test]
    fn a_stale_or_foreign_release_is_refused() {
        let mut s = state();
        acquire(&mut s, A, 1);
        let stale = Command::Release {
            lock: "l".into(),
            owner: A,
            fence: 7,
        };
        assert_eq!(s.apply(&stale).0, Outcome::NotOwner);
        let foreign = Command::Release {
            lock: "l".into(),
            owner: B,
            fence: 1,
        };
        assert_eq!(s.apply(&foreign).0, Outcome::NotOwner);
        assert!(s.holds("l", A, 1));
    }

    #[test]
    fn a_cancel_after_the_grant_leaves_no_phantom_owner() {
        let mut s = state();
        acquire(&mut s, A, 1);
        acquire(&mut s, B, 2);
        s.apply(&Command::Release {
            lock: "l".into(),
            owner: A,
            fence: 1,
        });
        assert!(s.holds("l", B, 2));
        s.apply(&Command::Cancel {
            lock: "l".into(),
            owner: B,
            request: 2,
        });
        assert!(!s.is_locked("l"));
        assert_eq!(acquire(&mut s, A, 3).0, Outcome::Granted { fence: 3 });
    }

    #[test]
    fn closing_a_session_passes_its_locks_on_and_drops_its_waiters() {
        let mut s = state();
        acquire(&mut s, B, 1);
        acquire(&mut s, C, 2);
        acquire(&mut s, A, 3);
        let (_, grants) = s.apply(&Command::CloseSession {
            session: 2,
            reason: "down".into(),
        });
        assert_eq!((grants.grants[0].owner, grants.grants[0].fence), (A, 2));
        assert_eq!(acquire(&mut s, B, 4).0, Outcome::NoSession);
    }

    #[test]
    fn try_without_queue_is_busy_and_retries_are_idempotent() {
        let mut s = state();
        acquire(&mut s, A, 1);
        let try_b = Command::Acquire {
            lock: "l".into(),
            owner: B,
            request: 2,
            queue: false,
        };
        assert_eq!(s.apply(&try_b).0, Outcome::Busy);
        assert_eq!(acquire(&mut s, A, 1).0, Outcome::Granted { fence: 1 });
    }

    #[test]
    fn a_dead_letter_names_the_node_of_the_session_that_set_it_aside() {
        let mut s = state();
        s.apply(&Command::Offer {
            queue: "q".into(),
            payload: b"x".to_vec(),
        });
        let Outcome::Claimed { id, .. } = s
            .apply(&Command::Claim {
                queue: "q".into(),
                session: 2,
            })
            .0
        else {
            panic!("expected a claim");
        };
        let set_aside = |session| Command::SetAside {
            queue: "q".into(),
            session,
            id,
            reason: "refused".into(),
            at_ms: 9,
        };
        assert_eq!(s.apply(&set_aside(3)).0, Outcome::NoSession);
        assert_eq!(
            s.apply(&set_aside(2)).0,
            Outcome::SetAside { displaced: None }
        );
        let letters = s.dead_letters("q");
        assert_eq!((letters[0].node.as_str(), letters[0].at_ms), ("b", 9));
        assert_eq!(s.queue_size("q"), 0);
        let clear = Command::ClearDeadLetters {
            queue: "q".into(),
            id: None,
        };
        assert_eq!(s.apply(&clear).0, Outcome::Removed { count: 1 });
    }

    #[test]
    fn shed_lock_honours_expiry_and_unlock_time() {
        let mut s = state();
        let lock = |session, now_ms| Command::ShedLock {
            name: "job".into(),
            session,
            now_ms,
            until_ms: now_ms + 100,
        };
        assert_eq!(s.apply(&lock(1, 1000)).0, Outcome::ShedLocked(true));
        assert_eq!(s.apply(&lock(2, 1050)).0, Outcome::ShedLocked(false));
        assert_eq!(s.apply(&lock(2, 1100)).0, Outcome::ShedLocked(true));
        s.apply(&Command::ShedUnlock {
            name: "job".into(),
            session: 2,
            at_ms: 1150,
        });
        assert_eq!(s.apply(&lock(1, 1149)).0, Outcome::ShedLocked(false));
        assert_eq!(s.apply(&lock(1, 1150)).0, Outcome::ShedLocked(true));
    }
}
