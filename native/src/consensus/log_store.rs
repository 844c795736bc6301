//! The Raft log and vote: kept in memory, and in the journal as well when the node has a data
//! directory, so that a restarted node comes back with the vote it cast and the log it acked.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, RaftLogId, RaftLogReader, StorageIOError};
use tokio::sync::Mutex;

use super::journal::{Journal, Record};
use super::types::{Entry, LogId, StorageError, TypeConfig, Vote};

#[derive(Default)]
struct Inner {
    last_purged: Option<LogId>,
    log: BTreeMap<u64, Entry>,
    committed: Option<LogId>,
    vote: Option<Vote>,
    journal: Option<Journal>,
}

#[derive(Clone, Default)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
}

fn io_error(e: std::io::Error) -> StorageError {
    StorageIOError::write_logs(&e).into()
}

impl Inner {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Vote(v) => self.vote = Some(v),
            Record::Committed(c) => self.committed = c,
            Record::Append(entries) => {
                for e in entries {
                    self.log.insert(e.get_log_id().index, e);
                }
            }
            Record::Truncate(index) => {
                self.log.split_off(&index);
            }
            Record::Purge(log_id) => {
                self.log = self.log.split_off(&(log_id.index + 1));
                self.last_purged = Some(log_id);
            }
        }
    }

    fn persist(&mut self, record: &Record) -> Result<(), StorageError> {
        match self.journal.as_mut() {
            Some(journal) => journal.append(record).map_err(io_error),
            None => Ok(()),
        }
    }

    fn compact(&mut self) -> Result<(), StorageError> {
        let Some(journal) = self.journal.as_mut() else {
            return Ok(());
        };
        if !journal.needs_compaction() {
            return Ok(());
        }
        let mut records = Vec::new();
        if let Some(v) = self.vote {
            records.push(Record::Vote(v));
        }
        records.push(Record::Committed(self.committed));
        if let Some(p) = self.last_purged {
            records.push(Record::Purge(p));
        }
        records.push(Record::Append(self.log.values().cloned().collect()));
        journal.rewrite(&records).map_err(io_error)
    }
}

impl LogStore {
    /// A store kept in `dir` when given (replaying what an earlier run left), else in memory.
    pub fn open(dir: Option<&Path>) -> std::io::Result<LogStore> {
        let mut inner = Inner::default();
        if let Some(dir) = dir {
            let (journal, records) = Journal::open(dir)?;
            for record in records {
                inner.apply(record);
            }
            inner.journal = Some(journal);
        }
        Ok(LogStore {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    /// Applies a change in memory after it is durable.
    async fn record(&self, record: Record) -> Result<(), StorageError> {
        let mut inner = self.inner.lock().await;
        inner.persist(&record)?;
        inner.apply(record);
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let inner = self.inner.lock().await;
        Ok(inner.log.range(range).map(|(_, e)| e.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.inner.lock().await;
        let last = inner
            .log
            .values()
            .next_back()
            .map(|e| *e.get_log_id())
            .or(inner.last_purged);
        Ok(LogState {
            last_purged_log_id: inner.last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        self.record(Record::Vote(*vote)).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.inner.lock().await.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.record(Record::Committed(committed)).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.inner.lock().await.committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
    {
        let result = self
            .record(Record::Append(entries.into_iter().collect()))
            .await;
        callback.log_io_completed(match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        });
        result
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.record(Record::Truncate(log_id.index)).await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.record(Record::Purge(log_id)).await?;
        self.inner.lock().await.compact()
    }
}
