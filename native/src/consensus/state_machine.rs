//! The Raft state machine: applies committed commands to the coordination state, wakes the local
//! threads whose requests were granted, and snapshots the state to keep the log short.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::journal;
use super::types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::coordination::{Command, CoordinationState, Outcome, Waiters};
use crate::limits::MAX_SNAPSHOT_BYTES;

const SNAPSHOT_FILE: &str = "raft-snapshot.bin";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Applied {
    pub last_applied: Option<LogId>,
    pub membership: StoredMembership,
    pub state: CoordinationState,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

/// What the node reads directly (no network): the applied state of this replica.
pub struct Replica {
    applied: RwLock<Applied>,
    snapshot: Mutex<Option<StoredSnapshot>>,
    snapshot_seq: AtomicU64,
    dir: Option<PathBuf>,
    /// This node's current lock session; replaced when the cluster ends the old one.
    local_session: AtomicU64,
    waiters: Arc<Waiters>,
    /// When this replica applied the opening of each session it saw open, on this node's
    /// clock. Not consensus state (the sessions themselves are): a leader times a session that
    /// has not sent it a keepalive yet from here, since a session cannot have been silent
    /// for longer than it has existed.
    opened_at: Mutex<HashMap<u64, Instant>>,
}

impl Replica {
    pub fn open(
        dir: Option<&Path>,
        local_session: u64,
        waiters: Arc<Waiters>,
    ) -> std::io::Result<Arc<Replica>> {
        let stored: Option<StoredSnapshot> = match dir {
            Some(d) => journal::read_value(&d.join(SNAPSHOT_FILE))?,
            None => None,
        };
        let applied = match &stored {
            Some(s) => Applied {
                last_applied: s.meta.last_log_id,
                membership: s.meta.last_membership.clone(),
                state: decode_state(&s.data).map_err(std::io::Error::other)?,
            },
            None => Applied::default(),
        };
        Ok(Arc::new(Replica {
            applied: RwLock::new(applied),
            snapshot: Mutex::new(stored),
            snapshot_seq: AtomicU64::new(0),
            dir: dir.map(Path::to_path_buf),
            local_session: AtomicU64::new(local_session),
            waiters,
            opened_at: Mutex::new(HashMap::new()),
        }))
    }

    pub fn applied_index(&self) -> u64 {
        self.applied.read().last_applied.map_or(0, |l| l.index)
    }

    pub fn session(&self) -> u64 {
        self.local_session.load(Ordering::Acquire)
    }

    pub fn set_session(&self, session: u64) {
        self.local_session.store(session, Ordering::Release);
    }

    pub fn read<T>(&self, f: impl FnOnce(&CoordinationState) -> T) -> T {
        f(&self.applied.read().state)
    }

    /// When this replica applied the opening of each open session it saw opened (sessions
    /// that arrived in a snapshot or before this process started are absent).
    pub fn sessions_opened_at(&self) -> HashMap<u64, Instant> {
        self.opened_at.lock().clone()
    }

    fn save(&self, snapshot: &StoredSnapshot) -> Result<(), StorageError> {
        if let Some(dir) = &self.dir {
            journal::write_value(&dir.join(SNAPSHOT_FILE), snapshot).map_err(|e| {
                StorageError::from(StorageIOError::write_snapshot(
                    Some(snapshot.meta.signature()),
                    &e,
                ))
            })?;
        }
        *self.snapshot.lock() = Some(snapshot.clone());
        Ok(())
    }

    fn apply_command(&self, state: &mut CoordinationState, command: &Command) -> Outcome {
        let (outcome, effects) = state.apply(command);
        match command {
            Command::OpenSession { session, .. } => {
                self.opened_at.lock().insert(*session, Instant::now());
            }
            Command::CloseSession { session, .. } => {
                self.opened_at.lock().remove(session);
            }
            _ => {}
        }
        let local = self.session();
        for grant in effects.grants.iter().filter(|g| g.owner.session == local) {
            self.waiters.grant(grant.request, grant.fence);
        }
        for queue in &effects.refilled {
            self.waiters.note_refill(queue);
        }
        if let Command::CloseSession { session, reason } = command {
            if *session == local {
                self.waiters
                    .fail_all(&format!("this node's lock session ended: {reason}"));
            }
        }
        outcome
    }
}

fn state_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_SNAPSHOT_BYTES>,
> {
    bincode::config::standard().with_limit::<MAX_SNAPSHOT_BYTES>()
}

pub(crate) fn encode_state(state: &CoordinationState) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(state, state_config()).map_err(|e| e.to_string())
}

pub(crate) fn decode_state(data: &[u8]) -> Result<CoordinationState, String> {
    crate::wire::decode_prefix::<_, MAX_SNAPSHOT_BYTES>(data)
        .map(|(s, _)| s)
        .map_err(|e| format!("snapshot does not decode: {e}"))
}

/// openraft's handle on the replica.
#[derive(Clone)]
pub struct StateMachine(pub Arc<Replica>);

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let (meta, data) = {
            let applied = self.0.applied.read();
            let data = encode_state(&applied.state)
                .map_err(|e| StorageIOError::read_state_machine(&std::io::Error::other(e)))?;
            let seq = self.0.snapshot_seq.fetch_add(1, Ordering::Relaxed);
            let id = match applied.last_applied {
                Some(l) => format!("{}-{}-{seq}", l.leader_id, l.index),
                None => format!("none-{seq}"),
            };
            let meta = SnapshotMeta {
                last_log_id: applied.last_applied,
                last_membership: applied.membership.clone(),
                snapshot_id: id,
            };
            (meta, data)
        };
        self.0.save(&StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        })?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self.0.applied.read();
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
    {
        let mut applied = self.0.applied.write();
        let mut outcomes = Vec::new();
        for entry in entries {
            applied.last_applied = Some(entry.log_id);
            outcomes.push(match entry.payload {
                EntryPayload::Blank => Outcome::Done,
                EntryPayload::Normal(command) => self.0.apply_command(&mut applied.state, &command),
                EntryPayload::Membership(m) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), m);
                    Outcome::Done
                }
            });
        }
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let state = decode_state(&data).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), &std::io::Error::other(e))
        })?;
        {
            let mut applied = self.0.applied.write();
            self.0
                .opened_at
                .lock()
                .retain(|session, _| state.has_session(*session));
            *applied = Applied {
                last_applied: meta.last_log_id,
                membership: meta.last_membership.clone(),
                state,
            };
        }
        self.0.save(&StoredSnapshot {
            meta: meta.clone(),
            data,
        })
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.0.snapshot.lock().as_ref().map(|s| Snapshot {
            meta: s.meta.clone(),
            snapshot: Box::new(Cursor::new(s.data.clone())),
        }))
    }
}
