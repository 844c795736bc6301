//! The largest names and payloads the cluster accepts, and their checks, in one place: the node
//! API checks a caller's input here (an `IllegalArgumentException` in Java), and the leader checks
//! every command here again before proposing it, so that a peer that holds the key but misbehaves
//! (or runs another build) cannot get an oversized command into the replicated log.
//!
//! How the sizes were chosen. Every consensus command travels in AppendEntries requests, which
//! are cut at `REPLICATION_MESSAGE_BYTES` (consensus/network.rs); one command must fit in one such
//! request with room to spare, or a follower that fell behind could never be sent it. So the
//! largest command, a queue item, is half of it: 1 MiB holds an HL7 message, a FHIR bundle of an
//! encounter or a scanned page, and anything larger belongs in the database or a file store with
//! its id in the queue. Events travel outside consensus, in batches of at most 2 MiB,
//! so 1 MiB as well: an event says what changed, it does not carry documents. Cache values never
//! enter the log; 4 MiB holds a large concept tree or a form schema and stays a fraction of a
//! cache batch (2 MiB is a target there, a single record may exceed it) and of a frame (16 MiB).
//! A cache key is an id or a short tuple; 64 KiB leaves room for composite Hibernate keys.
//! Names are identifiers a person reads in logs: 256 bytes, no control characters (a newline or
//! a NUL in a name forges log lines and breaks tools that read them).

use std::fmt;

/// Names of locks, queues, caches, topics and schedules: at most this many bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 256;
pub const MAX_QUEUE_ITEM_BYTES: usize = 1024 * 1024;
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
pub const MAX_CACHE_KEY_BYTES: usize = 64 * 1024;
pub const MAX_CACHE_VALUE_BYTES: usize = 4 * 1024 * 1024;
/// Text a command carries besides names: a node's name (config allows 200 bytes) and the reason
/// a session ended, which nodes write themselves.
pub const MAX_TEXT_BYTES: usize = 1024;

/// An AppendEntries request is cut so that it encodes to at most this many bytes, so that a
/// follower behind by any amount is sent its backlog in pieces. Not the frame limit (16 MiB) but
/// time bounds it: openraft gives an AppendEntries request one heartbeat interval (100 ms) to be
/// answered, and 2 MiB take about 17 ms on a 1 Gbit/s link (170 ms on 100 Mbit/s: nodes of a
/// cluster need a gigabit LAN between them to catch up at this size).
pub const REPLICATION_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// A snapshot is sent in chunks of this size, each with 2 s to be answered.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1024 * 1024;
/// The largest snapshot a follower accepts from a leader: the state machine's own decoding limit.
pub const MAX_SNAPSHOT_BYTES: usize = 256 * 1024 * 1024;

const _: () = assert!(REPLICATION_MESSAGE_BYTES * 4 <= crate::wire::MAX_FRAME_LEN);
const _: () = assert!(SNAPSHOT_CHUNK_BYTES * 4 <= crate::wire::MAX_FRAME_LEN);
const _: () = assert!(MAX_QUEUE_ITEM_BYTES * 2 <= REPLICATION_MESSAGE_BYTES);

/// What a name names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    Lock,
    Queue,
    Cache,
    Topic,
    Schedule,
}

impl Named {
    /// The kind `jni` receives from Java (`Native.checkName`).
    pub fn parse(kind: &str) -> Option<Named> {
        Some(match kind {
            "lock" => Named::Lock,
            "queue" => Named::Queue,
            "cache" => Named::Cache,
            "topic" => Named::Topic,
            "schedule" => Named::Schedule,
            _ => return None,
        })
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Named::Lock => "lock",
            Named::Queue => "queue",
            Named::Cache => "cache",
            Named::Topic => "topic",
            Named::Schedule => "schedule",
        })
    }
}

/// A payload with a limit, and the name of what carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    QueueItem,
    Event,
    CacheKey,
    CacheValue,
}

impl Payload {
    pub fn limit(self) -> usize {
        match self {
            Payload::QueueItem => MAX_QUEUE_ITEM_BYTES,
            Payload::Event => MAX_EVENT_BYTES,
            Payload::CacheKey => MAX_CACHE_KEY_BYTES,
            Payload::CacheValue => MAX_CACHE_VALUE_BYTES,
        }
    }

    fn carrier(self) -> Named {
        match self {
            Payload::QueueItem => Named::Queue,
            Payload::Event => Named::Topic,
            Payload::CacheKey | Payload::CacheValue => Named::Cache,
        }
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Payload::QueueItem => "queue item",
            Payload::Event => "event payload",
            Payload::CacheKey => "cache key",
            Payload::CacheValue => "cache value",
        })
    }
}

const NAME_RULE: &str = "names are 1 to 256 bytes of UTF-8 without control characters";

/// A name or payload past its limit. The messages never repeat an oversized value, and show a
/// name only once it is known to be short and printable (escaped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{kind} name is empty; {NAME_RULE}")]
    EmptyName { kind: Named },
    #[error("{kind} name of {len} bytes is over the limit of {MAX_NAME_BYTES} bytes; {NAME_RULE}")]
    LongName { kind: Named, len: usize },
    #[error("{kind} name \"{shown}\" contains the control character U+{code:04X} at byte {at}; {NAME_RULE}")]
    ControlInName {
        kind: Named,
        shown: String,
        code: u32,
        at: usize,
    },
    #[error("{what} of {len} bytes is over the limit of {limit} bytes ({carrier} '{name}')", limit = what.limit(), carrier = what.carrier())]
    Payload {
        what: Payload,
        len: usize,
        name: String,
    },
    #[error("{what} of {len} bytes is over the limit of {MAX_TEXT_BYTES} bytes")]
    Text { what: &'static str, len: usize },
    #[error("a snapshot chunk ending at byte {end} is over the snapshot limit of {MAX_SNAPSHOT_BYTES} bytes")]
    Snapshot { end: u64 },
}

pub fn check_name(kind: Named, name: &str) -> Result<(), LimitError> {
    if name.is_empty() {
        return Err(LimitError::EmptyName { kind });
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(LimitError::LongName {
            kind,
            len: name.len(),
        });
    }
    match name.char_indices().find(|(_, c)| c.is_control()) {
        Some((at, c)) => Err(LimitError::ControlInName {
            kind,
            shown: name.escape_debug().to_string(),
            code: c as u32,
            at,
        }),
        None => Ok(()),
    }
}

/// `name` is the queue, topic or cache the payload is for, already checked by `check_name`.
pub fn check_payload(what: Payload, len: usize, name: &str) -> Result<(), LimitError> {
    if len > what.limit() {
        return Err(LimitError::Payload {
            what,
            len,
            name: name.to_string(),
        });
    }
    Ok(())
}

pub fn check_text(what: &'static str, text: &str) -> Result<(), LimitError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(LimitError::Text {
            what,
            len: text.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_refused_empty_long_or_with_control_characters() {
        assert_eq!(
            check_name(Named::Lock, "").unwrap_err().to_string(),
            "lock name is empty; names are 1 to 256 bytes of UTF-8 without control characters"
        );
        let long = "é".repeat(129);
        assert_eq!(
            check_name(Named::Queue, &long).unwrap_err(),
            LimitError::LongName {
                kind: Named::Queue,
                len: 258
            }
        );
        assert!(check_name(Named::Queue, &"é".repeat(128)).is_ok());
        let newline = check_name(Named::Topic, "a\nb").unwrap_err().to_string();
        assert!(
            newline.starts_with(
                "topic name \"a\\nb\" contains the control character U+000A at byte 1"
            ),
            "{newline}"
        );
        let nul = check_name(Named::Schedule, "x\0").unwrap_err().to_string();
        assert!(nul.contains("U+0000 at byte 1"), "{nul}");
        assert!(check_name(Named::Cache, "org.openmrs.Concept (v2) ünï").is_ok());
    }

    #[test]
    fn a_payload_over_its_limit_names_the_limit_the_size_and_its_carrier() {
        let e = check_payload(Payload::QueueItem, 17 * 1024 * 1024, "hl7").unwrap_err();
        assert_eq!(
            e.to_string(),
            "queue item of 17825792 bytes is over the limit of 1048576 bytes (queue 'hl7')"
        );
        assert!(check_payload(Payload::QueueItem, MAX_QUEUE_ITEM_BYTES, "hl7").is_ok());
        let value = check_payload(Payload::CacheValue, MAX_CACHE_VALUE_BYTES + 1, "users");
        assert_eq!(
            value.unwrap_err().to_string(),
            "cache value of 4194305 bytes is over the limit of 4194304 bytes (cache 'users')"
        );
    }
}
