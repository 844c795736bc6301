//! Durable Raft state in `cluster.data.dir`: an append-only journal of vote, log and purge
//! records, fsynced before Raft is told they are stored, and the latest snapshot and the node's
//! identity in files of their own, each replaced atomically.
//!
//! Every file starts with a magic and the format version; every record carries its length and
//! a CRC-32 of its body, and a CRC-32 of those two. On replay, what a crash can leave is dropped
//! with a warning: a record cut short at the end of the file, or a tail of zeros (space a file
//! system extended but never wrote). Raft was never told such a record was stored. Anything
//! else that fails a check is damage, and the node refuses to start, naming the file and the
//! byte offset: replaying up to the damage would silently drop every later record, committed
//! queue items among them.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::data_dir;
use super::types::{Entry, LogId, Vote};
use crate::limits::MAX_SNAPSHOT_BYTES;

const JOURNAL: &str = "raft-journal.bin";
/// Rewrite the journal without purged entries once it grows past this.
const COMPACT_AFTER: u64 = 8 * 1024 * 1024;
/// Written first in every file; "OpenMRS cluster data".
const MAGIC: [u8; 4] = *b"OMCD";
/// Bumped whenever a file's layout or a record's encoding changes (version 1 had neither
/// header nor checksums). A node refuses a file of another version rather than guess.
const FORMAT_VERSION: u32 = 2;
const FILE_HEADER: usize = 8;
/// Length, CRC-32 of the body, CRC-32 of those 8 bytes.
const RECORD_HEADER: usize = 12;
/// The largest journal record either side accepts; an `Append` of more entries is split.
pub(crate) const RECORD_LIMIT: usize = 16 * 1024 * 1024;
/// The largest snapshot or identity file: the state machine's limit and room for its metadata.
const VALUE_LIMIT: usize = MAX_SNAPSHOT_BYTES + 1024 * 1024;
/// What `Append` records are cut at, well under `RECORD_LIMIT` (an entry is far smaller).
const APPEND_BUDGET: usize = RECORD_LIMIT / 2;

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
    bincode::config::Limit<VALUE_LIMIT>,
> {
    bincode::config::standard().with_limit::<VALUE_LIMIT>()
}

pub(crate) fn file_header() -> [u8; FILE_HEADER] {
    let mut header = [0; FILE_HEADER];
    header[..4].copy_from_slice(&MAGIC);
    header[4..].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header
}

fn encode<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| std::io::Error::other(e.to_string()))
}

/// Appends one record to `out`: refused when the reader would refuse it for its size.
fn push_frame(body: &[u8], limit: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
    if body.len() > limit {
        return Err(std::io::Error::other(format!(
            "a record of {} bytes is over the limit of {limit} bytes and was not written",
            body.len()
        )));
    }
    let start = out.len();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    let header_crc = crc32fast::hash(&out[start..start + 8]);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// Appends a journal record to `out`; an `Append` of more than `APPEND_BUDGET` bytes (a long
/// log rewritten at compaction, a large batch) is split in halves until each part fits.
pub(crate) fn push_record(record: &Record, out: &mut Vec<u8>) -> std::io::Result<()> {
    let body = encode(record)?;
    match record {
        Record::Append(entries) if body.len() > APPEND_BUDGET && entries.len() > 1 => {
            let (first, second) = entries.split_at(entries.len() / 2);
            push_record(&Record::Append(first.to_vec()), out)?;
            push_record(&Record::Append(second.to_vec()), out)
        }
        _ => push_frame(&body, RECORD_LIMIT, out),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn damaged(path: &Path, offset: usize, what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!(
        "{} is damaged at byte {offset}: {what}; the node does not start rather than lose what \
         follows. Restore the file from a backup, or move the data directory aside to rejoin as a \
         new node",
        path.display()
    ))
}

/// The records of a file, and where its last whole record ends (the rest is a torn tail).
pub(crate) struct Replay<T> {
    pub(crate) records: Vec<T>,
    end: usize,
}

/// Reads a file's records: every check that fails is an error naming `path` and the offset,
/// except the torn tail a crash can leave (see the module comment).
pub(crate) fn replay<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    limit: usize,
) -> std::io::Result<Replay<T>> {
    if bytes.len() < FILE_HEADER && file_header().starts_with(bytes) {
        // Nothing, or a header cut short when the file was created.
        return Ok(Replay {
            records: Vec::new(),
            end: 0,
        });
    }
    if bytes.len() < FILE_HEADER || bytes[..4] != MAGIC {
        return Err(std::io::Error::other(format!(
            "{} is not an openmrs-cluster data file of format {FORMAT_VERSION} (files of format 1, \
             written before records had checksums, have no header); move the data directory aside \
             to rejoin as a new node",
            path.display()
        )));
    }
    let version = u32_at(bytes, 4);
    if version != FORMAT_VERSION {
        return Err(std::io::Error::other(format!(
            "{} is of data format {version}; this version of openmrs-cluster reads format \
             {FORMAT_VERSION}; move the data directory aside to rejoin as a new node",
            path.display()
        )));
    }
    let mut records = Vec::new();
    let mut at = FILE_HEADER;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < RECORD_HEADER {
            break;
        }
        if crc32fast::hash(&rest[..8]) != u32_at(rest, 8) {
            if rest.iter().all(|b| *b == 0) {
                break;
            }
            return Err(damaged(path, at, "a record header fails its checksum"));
        }
        let len = u32_at(rest, 0) as usize;
        if len > limit {
            return Err(damaged(
                path,
                at,
                format!("a record of {len} bytes is over the limit of {limit} bytes"),
            ));
        }
        let Some(body) = rest.get(RECORD_HEADER..RECORD_HEADER + len) else {
            break;
        };
        if crc32fast::hash(body) != u32_at(rest, 4) {
            let last = at + RECORD_HEADER + len == bytes.len();
            return Err(damaged(
                path,
                at,
                if last {
                    format!("its last record fails its checksum (if the machine crashed while writing it, truncating the file to {at} bytes drops it)")
                } else {
                    "a record fails its checksum".to_string()
                },
            ));
        }
        match crate::wire::decode_prefix::<T, VALUE_LIMIT>(body) {
            Ok((record, used)) if used == len => records.push(record),
            Ok(_) => return Err(damaged(path, at, "a record has bytes after its end")),
            Err(e) => return Err(damaged(path, at, format!("a record does not decode: {e}"))),
        }
        at += RECORD_HEADER + len;
    }
    Ok(Replay { records, end: at })
}

fn read_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(bytes))
}

/// Replaces the file at `path` with one holding `value` (a snapshot, the node's identity).
pub fn write_value<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = file_header().to_vec();
    push_frame(&encode(value)?, VALUE_LIMIT, &mut bytes)?;
    data_dir::write_atomically(path, &bytes)
}

pub fn read_value<T: DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    let Some(bytes) = read_file(path)? else {
        return Ok(None);
    };
    let Replay { mut records, end } = replay::<T>(path, &bytes, VALUE_LIMIT)?;
    // Written whole and renamed into place: even a torn tail is damage here.
    if records.len() != 1 || end != bytes.len() {
        return Err(damaged(
            path,
            end,
            "the file does not hold exactly one whole record",
        ));
    }
    Ok(records.pop())
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, a directory `data_dir::prepare` made, and
    /// returns it with the records it holds.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Record>)> {
        let path = dir.join(JOURNAL);
        let bytes = read_file(&path)?.unwrap_or_default();
        let Replay { records, end } = replay::<Record>(&path, &bytes, RECORD_LIMIT)?;
        let mut file = data_dir::open_append(&path)?;
        if end < bytes.len() {
            tracing::warn!(path = %path.display(), offset = end, dropped = bytes.len() - end, "dropping an incomplete record at the end of the journal (a crash while it was written; Raft was never told it was stored)");
            file.set_len(end as u64)?;
        }
        let mut written = end.max(FILE_HEADER) as u64;
        if end == 0 {
            file.set_len(0)?;
            file.write_all(&file_header())?;
            file.sync_all()?;
            written = FILE_HEADER as u64;
        }
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                file,
                written,
            },
            records,
        ))
    }

    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        push_record(record, &mut bytes)?;
        let file = &mut self.file;
        data_dir::blocking(|| {
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
        let mut bytes = file_header().to_vec();
        for record in records {
            push_record(record, &mut bytes)?;
        }
        let path = self.dir.join(JOURNAL);
        data_dir::write_atomically(&path, &bytes)?;
        self.file = data_dir::open_append(&path)?;
        self.written = bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, EntryPayload};

    use crate::coordination::Command;

    /// A data directory, removed when the test ends.
    struct Dir(PathBuf);

    impl std::ops::Deref for Dir {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir() -> Dir {
        let dir = std::env::temp_dir().join(format!("omc-journal-{}", rand::random::<u64>()));
        data_dir::prepare(&dir).unwrap();
        Dir(dir)
    }

    fn offer(index: u64, len: usize) -> Record {
        Record::Append(vec![Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(Command::Offer {
                queue: "hl7".into(),
                payload: vec![index as u8; len],
            }),
        }])
    }

    fn indexes(records: &[Record]) -> Vec<u64> {
        records
            .iter()
            .flat_map(|r| match r {
                Record::Append(entries) => entries.iter().map(|e| e.log_id.index).collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// A journal of 19 offers, and where each record starts.
    fn nineteen(dir: &Path) -> Vec<usize> {
        let (mut journal, _) = Journal::open(dir).unwrap();
        let mut starts = Vec::new();
        for i in 1..=19 {
            starts.push(journal.written as usize);
            journal.append(&offer(i, 100)).unwrap();
        }
        starts
    }

    fn flip(path: &Path, at: usize) {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[at] ^= 0x10;
        std::fs::write(path, bytes).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn records_come_back_in_order() {
        let dir = dir();
        nineteen(&dir);
        let (_, records) = Journal::open(&dir).unwrap();
        assert_eq!(indexes(&records), (1..=19).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_flipped_bit_in_record_3_of_19_refuses_to_start_naming_the_file_and_offset() {
        let dir = dir();
        let starts = nineteen(&dir);
        let path = dir.join(JOURNAL);
        // In the body of record 3, then in the length of its header.
        for at in [starts[2] + RECORD_HEADER + 20, starts[2] + 1] {
            flip(&path, at);
            let e = Journal::open(&dir).err().expect("refused").to_string();
            assert!(
                e.starts_with(&format!(
                    "{} is damaged at byte {}: a record",
                    path.display(),
                    starts[2]
                )),
                "{e}"
            );
            flip(&path, at);
        }
        assert_eq!(indexes(&Journal::open(&dir).unwrap().1).len(), 19);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn damage_in_the_last_record_is_refused_too_with_a_way_out() {
        let dir = dir();
        let starts = nineteen(&dir);
        let path = dir.join(JOURNAL);
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        flip(&path, len - 3);
        let e = Journal::open(&dir).err().expect("refused").to_string();
        assert!(
            e.contains(&format!(
                "truncating the file to {} bytes drops it",
                starts[18]
            )),
            "{e}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_torn_tail_is_dropped_and_the_rest_kept() {
        let dir = dir();
        let starts = nineteen(&dir);
        let path = dir.join(JOURNAL);
        let len = std::fs::metadata(&path).unwrap().len();
        let file = data_dir::open_append(&path).unwrap();
        file.set_len(len - 7).unwrap();
        let (mut journal, records) = Journal::open(&dir).unwrap();
        assert_eq!(indexes(&records), (1..=18).collect::<Vec<_>>());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), starts[18] as u64);
        // Space the file system extended but never wrote (zeros) is a torn tail as well.
        journal.append(&offer(19, 100)).unwrap();
        let file = data_dir::open_append(&path).unwrap();
        file.set_len(len + 4096).unwrap();
        let (_, records) = Journal::open(&dir).unwrap();
        assert_eq!(indexes(&records), (1..=19).collect::<Vec<_>>());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_journal_of_another_format_is_refused_by_name() {
        let dir = dir();
        let path = dir.join(JOURNAL);
        // Format 1: records straight away, no header.
        std::fs::write(&path, [3, 0, 0, 0, 1, 2, 3]).unwrap();
        let e = Journal::open(&dir).err().expect("refused").to_string();
        assert!(
            e.contains("is not an openmrs-cluster data file of format 2"),
            "{e}"
        );
        let mut newer = file_header();
        newer[4] = 3;
        std::fs::write(&path, newer).unwrap();
        let e = Journal::open(&dir).err().expect("refused").to_string();
        assert!(e.contains("is of data format 3"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_writer_keeps_the_readers_limit() {
        let dir = dir();
        let (mut journal, _) = Journal::open(&dir).unwrap();
        // 40 entries of 1 MiB: split into records under the limit, and read back whole.
        let big: Vec<Entry> = (1..=40)
            .flat_map(|i| match offer(i, 1024 * 1024) {
                Record::Append(entries) => entries,
                _ => unreachable!(),
            })
            .collect();
        journal.append(&Record::Append(big)).unwrap();
        let (_, records) = Journal::open(&dir).unwrap();
        assert!(records.len() > 2);
        assert_eq!(indexes(&records), (1..=40).collect::<Vec<_>>());
        // What the reader would refuse is never written.
        let mut out = Vec::new();
        let e = push_frame(&vec![0; RECORD_LIMIT + 1], RECORD_LIMIT, &mut out).unwrap_err();
        assert!(e.to_string().contains("over the limit"), "{e}");
        assert!(out.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_damaged_value_file_is_refused() {
        let dir = dir();
        let path = dir.join("value.bin");
        write_value(&path, &42u64).unwrap();
        assert_eq!(read_value::<u64>(&path).unwrap(), Some(42));
        flip(&path, FILE_HEADER + RECORD_HEADER);
        let e = read_value::<u64>(&path).expect_err("refused").to_string();
        assert!(
            e.starts_with(&format!("{} is damaged at byte 8", path.display())),
            "{e}"
        );
    }
}
