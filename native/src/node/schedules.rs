//! Singleton schedules as a node offers them to the Java side. The Java scheduler ticks each
//! period on every participating node; only the owner's `schedule_run` says yes, once per period.

use super::Node;
use crate::coordination::{Command, Outcome};
use crate::error::Result;
use crate::limits::{check_name, Named};

impl Node {
    pub fn schedule_join(&self, name: &str) -> Result<()> {
        check_name(Named::Schedule, name)?;
        self.ensure_lease()?;
        let command = Command::JoinSchedule {
            name: name.to_string(),
            session: self.consensus.session(),
        };
        match self.propose(command)? {
            Outcome::NoSession => Err(self.session_ended()),
            _ => Ok(()),
        }
    }

    pub fn schedule_withdraw(&self, name: &str) -> Result<()> {
        check_name(Named::Schedule, name)?;
        self.ensure_open()?;
        let command = Command::WithdrawSchedule {
            name: name.to_string(),
            session: self.consensus.session(),
        };
        self.propose(command).map(|_| ())
    }

    /// Local: whether this node owns the schedule now (and may act on it).
    pub fn schedule_owned(&self, name: &str) -> bool {
        let session = self.consensus.session();
        self.consensus.lease_valid()
            && self.consensus.read(|s| s.schedule_owner(name)) == Some(session)
    }

    /// Asks to run `period` (a count of periods of `period_ms` since the epoch): true at most
    /// once per period cluster-wide, and only for the owner. The leader refuses a period that
    /// begins more than `clocks::MAX_AHEAD` past its own clock.
    pub fn schedule_run(&self, name: &str, period: u64, period_ms: u64) -> Result<bool> {
        check_name(Named::Schedule, name)?;
        self.ensure_lease()?;
        let command = Command::RunPeriod {
            name: name.to_string(),
            session: self.consensus.session(),
            period,
            period_ms,
        };
        Ok(self.propose(command)? == Outcome::Done)
    }
}
