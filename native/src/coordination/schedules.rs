//! Singleton schedules: for each name, the sessions that take part in order of arrival; the
//! first is the owner. Each period's execution is recorded, so that an owner taking over never
//! runs a period that already ran.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Outcome;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Schedule {
    participants: Vec<u64>,
    last_period: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedules {
    schedules: BTreeMap<String, Schedule>,
}

impl Schedules {
    pub fn join(&mut self, name: &str, session: u64) -> Outcome {
        let s = self.schedules.entry(name.to_string()).or_default();
        if !s.participants.contains(&session) {
            s.participants.push(session);
        }
        Outcome::Done
    }

    pub fn withdraw(&mut self, name: &str, session: u64) -> Outcome {
        if let Some(s) = self.schedules.get_mut(name) {
            s.participants.retain(|p| *p != session);
        }
        Outcome::Done
    }

    /// The owner asks to run `period`; yes at most once per period, and only for the owner.
    pub fn run(&mut self, name: &str, session: u64, period: u64) -> Outcome {
        let Some(s) = self.schedules.get_mut(name) else {
            return Outcome::NotOwner;
        };
        if s.participants.first() != Some(&session) {
            return Outcome::NotOwner;
        }
        if s.last_period.is_some_and(|last| last >= period) {
            return Outcome::AlreadyRan;
        }
        s.last_period = Some(period);
        Outcome::Done
    }

    pub fn release_session(&mut self, session: u64) {
        for s in self.schedules.values_mut() {
            s.participants.retain(|p| *p != session);
        }
    }

    pub fn owner(&self, name: &str) -> Option<u64> {
        self.schedules.get(name)?.participants.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_runs_and_each_period_once() {
        let mut s = Schedules::default();
        s.join("sync", 1);
        s.join("sync", 2);
        assert_eq!(s.run("sync", 2, 10), Outcome::NotOwner);
        assert_eq!(s.run("sync", 1, 10), Outcome::Done);
        assert_eq!(s.run("sync", 1, 10), Outcome::AlreadyRan);
        s.release_session(1);
        assert_eq!(s.owner("sync"), Some(2));
        assert_eq!(s.run("sync", 2, 10), Outcome::AlreadyRan);
        assert_eq!(s.run("sync", 2, 11), Outcome::Done);
    }
}
