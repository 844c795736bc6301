//! Durable Raft state in `cluster.data.dir`: an append-only journal of vote, log and purge
//! records, fsynced before Raft is told they are stored, and the latest snapshot in a file of
//! its own, replaced atomically. A record cut short by a crash is dropped on replay, which is
//! safe: Raft was never told it was stored.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::types::{Entry, LogId, Vote};

const JOURNAL: &str = "raft-journal.bin";
/// Rewrite the journal without purged entries once it grows past this.
const COMPACT_AFTER: u64 = 8 * 1024 * 1024;
const RECORD_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub enum Record {
    Vote(Vote),
    Committed(Option<LogId>),
    Append(Vec<Entry>),
    Truncate(u64),
    Purge(LogId),
}

pub struct Journal {
    dir: PathBuf,
    file: File,
    written: u64,
}

fn config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<RECORD_LIMIT>,
> {
    bincode::config::standard().with_limit::<RECORD_LIMIT>()
}

pub(crate) fn frame<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let body = bincode::serde::encode_to_vec(value, config())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads length-prefixed records until the end or the first incomplete or garbled one.
pub(crate) fn read_records<T: DeserializeOwned>(bytes: &[u8]) -> (Vec<T>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= 4 {
        let len =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let Some(body) = bytes.get(at + 4..at + 4 + len) else {
            break;
        };
        match crate::wire::decode_prefix::<T, RECORD_LIMIT>(body) {
            Ok((record, used)) if used == len => records.push(record),
            _ => break,
        }
        at += 4 + len;
    }
    (records, at)
}

/// Runs a write that ends in an fsync. A node's runtime has a single worker, which also runs
/// Raft's heartbeats and every connection: a slow disk must hold up only the caller.
fn blocking<T>(write: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    tokio::task::block_in_place(write)
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    blocking(|| write_atomically_here(path, bytes))
}

fn write_atomically_here(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

pub fn write_value<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    write_atomically(path, &frame(value)?)
}

pub fn read_value<T: DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let (mut values, _) = read_records::<T>(&bytes);
    if values.len() != 1 {
        return Err(std::io::Error::other(format!(
            "{} is damaged",
            path.display()
        )));
    }
    Ok(values.pop())
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and returns it with the records it holds.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Record>)> {
        fs::create_dir_all(dir)?;
        let path = dir.join(JOURNAL);
        let mut bytes = Vec::new();
        if let Ok(mut f) = File::open(&path) {
            f.read_to_end(&mut bytes)?;
        }
        let (records, good) = read_records::<Record>(&bytes);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if good < bytes.len() {
            tracing::warn!(path = %path.display(), dropped = bytes.len() - good, "dropping an incomplete record at the end of the journal");
            file.set_len(good as u64)?;
        }
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                file,
                written: good as u64,
            },
            records,
        ))
    }

    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let bytes = frame(record)?;
        let file = &mut self.file;
        blocking(|| {
            file.write_all(&bytes)?;
            file.sync_data()
        })?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub fn needs_compaction(&self) -> bool {
        self.written > COMPACT_AFTER
    }

    /// Replaces the journal with the given records (the live state, without purged entries).
    pub fn rewrite(&mut self, records: &[Record]) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        for record in records {
            bytes.extend_from_slice(&frame(record)?);
        }
        let path = self.dir.join(JOURNAL);
        write_atomically(&path, &bytes)?;
        self.file = OpenOptions::new().append(true).open(&path)?;
        self.written = bytes.len() as u64;
        Ok(())
    }
}
