//! What nodes say to each other over TCP, and how it is put into bytes.
//!
//! Every frame carries the wire protocol version. Decoding is bounded: bincode never allocates
//! more than the frame's own byte limit, and a frame with bytes left over is refused, since a
//! well-formed peer never sends them.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::cache::{CacheBatch, SyncPage, SyncRequest};
use crate::consensus::{ConsensusReply, ConsensusRequest};
use crate::events::{EventBatch, EventsAck};
use crate::membership::NodeIdentity;

/// Bumped whenever a frame or datagram layout changes; nodes of two versions refuse each other.
pub const PROTOCOL_VERSION: u8 = 5;

/// The largest frame a stream accepts: a batch of cache writes or events, or a page of a
/// joiner's pull, is cut well below it.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct Frame {
    pub protocol: u8,
    pub body: Body,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Body {
    /// A node asks to join, or whether the cluster exists yet.
    Hello(Hello),
    /// The answer to a `Hello` that is not refused.
    Welcome(Welcome),
    /// The answer to a `Hello` that can never succeed as configured.
    Refused {
        reason: String,
    },
    /// A message for the consensus group `group`: Raft's own RPCs, and proposals, keepalives
    /// and reads that nodes send the leader.
    Consensus {
        group: u64,
        request: Box<ConsensusRequest>,
    },
    ConsensusReply(Box<ConsensusReply>),
    /// Consecutive events of one publisher (events::outbox); answered by `EventsAck` if it asks.
    Events(EventBatch),
    EventsAck(EventsAck),
    /// Cache writes of one node (cache::outbox); answered by `CacheWritesAck` once applied.
    CacheWrites(CacheBatch),
    CacheWritesAck,
    /// A joiner pulls the replicated cache entries page by page (cache::sync).
    CacheSync(SyncRequest),
    CacheSyncPage(SyncPage),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub cluster_name: String,
    pub node: NodeIdentity,
    /// The joiner's wall clock in milliseconds: a node whose clock is far from the cluster's
    /// is refused with a message saying so, not left to fail at every stamped datagram.
    pub clock_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub responder: NodeIdentity,
    /// False while the responder has not formed or joined a cluster itself: the asker then
    /// knows a seed is alive but must not join through it yet.
    pub is_member: bool,
    pub members: Vec<NodeIdentity>,
    /// The consensus group the responder belongs to (its founder's Raft id).
    pub group: u64,
}

impl Body {
    /// The kind of body, for logs: never its contents, which may carry patient data.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Hello(_) => "Hello",
            Body::Welcome(_) => "Welcome",
            Body::Refused { .. } => "Refused",
            Body::Consensus { .. } => "Consensus",
            Body::ConsensusReply(_) => "ConsensusReply",
            Body::Events(_) => "Events",
            Body::EventsAck(_) => "EventsAck",
            Body::CacheWrites(_) => "CacheWrites",
            Body::CacheWritesAck => "CacheWritesAck",
            Body::CacheSync(_) => "CacheSync",
            Body::CacheSyncPage(_) => "CacheSyncPage",
        }
    }
}

impl Frame {
    pub fn new(body: Body) -> Frame {
        Frame {
            protocol: PROTOCOL_VERSION,
            body,
        }
    }
}

fn config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_FRAME_LEN>,
> {
    bincode::config::standard().with_limit::<MAX_FRAME_LEN>()
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| WireError::Encode(e.to_string()))
}

/// How many bytes `encode` would make of `value`, without making them.
pub fn encoded_len<T: Serialize>(value: &T) -> Result<usize, WireError> {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, config())
        .map_err(|e| WireError::Encode(e.to_string()))?;
    Ok(size.bytes_written)
}

/// Decodes exactly one value that fills `bytes`; anything else is refused.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    if bytes.len() > MAX_FRAME_LEN {
        return Err(WireError::TooLong(bytes.len()));
    }
    let (value, used) =
        decode_prefix::<T, MAX_FRAME_LEN>(bytes).map_err(|e| WireError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(WireError::Trailing(bytes.len() - used));
    }
    Ok(value)
}

/// Decodes one value from the front of `bytes` (bincode 2, standard) and returns it with the
/// number of bytes it took; bincode counts at most `MAX` bytes against its limit.
///
/// bincode reserves a string's or byte buffer's declared length before it reads the bytes, up
/// to what its limit has left: under a limit far above the input, ten bytes could reserve
/// 256 MiB. So the limit grows with the input, by steps, up to `MAX`. It is at least eight times
/// the input's length, which never refuses a valid input: bincode counts the bytes of strings
/// and buffers, which the input holds, and eight for an integer, which takes one byte at least.
pub fn decode_prefix<T: DeserializeOwned, const MAX: usize>(
    bytes: &[u8],
) -> Result<(T, usize), bincode::error::DecodeError> {
    const { assert!(MAX >= 16 << 20, "the steps below stop at 16 MiB") };
    match bytes.len().saturating_mul(8) {
        0..=0x1_0000 => decode_limited::<T, 0x1_0000>(bytes),
        0x1_0001..=0x4_0000 => decode_limited::<T, 0x4_0000>(bytes),
        0x4_0001..=0x10_0000 => decode_limited::<T, 0x10_0000>(bytes),
        0x10_0001..=0x40_0000 => decode_limited::<T, 0x40_0000>(bytes),
        0x40_0001..=0x100_0000 => decode_limited::<T, 0x100_0000>(bytes),
        _ => decode_limited::<T, MAX>(bytes),
    }
}

fn decode_limited<T: DeserializeOwned, const LIMIT: usize>(
    bytes: &[u8],
) -> Result<(T, usize), bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard().with_limit::<LIMIT>())
}

/// Decodes a frame and refuses one of another protocol version with a message naming both.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame, WireError> {
    let frame: Frame = decode(bytes)?;
    if frame.protocol != PROTOCOL_VERSION {
        return Err(WireError::Protocol(frame.protocol));
    }
    Ok(frame)
}

/// Text from a peer as it may reach a log or an exception: control characters (which could
/// forge log lines or hide text) replaced, and cut to `PEER_TEXT_MAX` characters.
pub fn peer_text(text: &str) -> String {
    let mut clean: String = text
        .chars()
        .take(PEER_TEXT_MAX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().nth(PEER_TEXT_MAX).is_some() {
        clean.push('…');
    }
    clean
}

/// Enough for any reason a node gives; more is noise, or an attempt to flood a log line.
pub const PEER_TEXT_MAX: usize = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("cannot encode a frame: {0}")]
    Encode(String),
    #[error("garbled frame: {0}")]
    Decode(String),
    #[error("frame has {0} bytes after its end")]
    Trailing(usize),
    #[error("frame of {0} bytes is over the limit of {MAX_FRAME_LEN}")]
    TooLong(usize),
    #[error("peer speaks wire protocol {0}, this node speaks {PROTOCOL_VERSION}")]
    Protocol(u8),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn identity() -> NodeIdentity {
        NodeIdentity::new(
            "a".into(),
            "127.0.0.1:7000".parse().unwrap(),
            "2.7.0".into(),
            1,
        )
    }

    fn hello() -> Frame {
        Frame::new(Body::Hello(Hello {
            cluster_name: "openmrs".into(),
            node: identity(),
            clock_ms: 1_700_000_000_000,
        }))
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&hello()).unwrap();
        assert_eq!(encode(&decode_frame(&bytes).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn trailing_bytes_and_other_protocols_are_refused() {
        let mut bytes = encode(&hello()).unwrap();
        bytes.push(0);
        assert_eq!(decode_frame(&bytes).err(), Some(WireError::Trailing(1)));
        let mut other = hello();
        other.protocol = PROTOCOL_VERSION + 1;
        assert_eq!(
            decode_frame(&encode(&other).unwrap()).err(),
            Some(WireError::Protocol(PROTOCOL_VERSION + 1))
        );
    }

    /// A consensus reply whose error nests 100,000 deep, as openraft's own error types allowed
    /// (`AnyError::source`): 500 KB that overflowed the decoding thread's stack and aborted the
    /// node. Replies carry a flat error now; decoding on a small stack returns.
    #[test]
    fn a_deeply_nested_reply_does_not_overflow_the_stack() {
        let depth = 100_000;
        let mut bytes = vec![PROTOCOL_VERSION, 4, 0, 1, 1, 0, 1, 6, 0, 1, 21];
        bytes.extend_from_slice(b"std::io::error::Error");
        bytes.extend_from_slice(&[1, 120]);
        bytes.push(1);
        for _ in 0..depth {
            bytes.extend_from_slice(&[0, 0, 1]);
        }
        bytes.extend_from_slice(&[0; 5]);
        bytes.extend(std::iter::repeat_n(0u8, 2 * depth));
        bytes.extend_from_slice(&[0; 3]);
        let decoded = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || decode_frame(&bytes).map(|frame| frame.body.kind()))
            .unwrap()
            .join()
            .expect("decoding returned");
        assert!(decoded.is_err(), "{decoded:?}");
    }

    #[test]
    fn peer_text_loses_control_characters_and_length() {
        assert_eq!(peer_text("a\nb\u{1b}[31mc"), "a\u{fffd}b\u{fffd}[31mc");
        let long = "x".repeat(PEER_TEXT_MAX + 10);
        assert_eq!(peer_text(&long).chars().count(), PEER_TEXT_MAX + 1);
        assert_eq!(peer_text("fine"), "fine");
    }

    #[test]
    fn a_huge_declared_length_does_not_allocate() {
        // A varint length near u64::MAX for the first string: must fail fast, not abort.
        let bytes = [1u8, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(decode_frame(&bytes).is_err());
    }

    #[test]
    fn a_declared_length_beyond_the_input_is_refused_before_it_is_reserved() {
        // A `Refused` frame whose reason declares 15 MiB in seven bytes: bincode reserves a
        // string's declared length before it reads it, unless its limit refuses it first.
        let bytes = [PROTOCOL_VERSION, 2, 252, 0, 0, 0xf0, 0];
        assert_eq!(
            decode_frame(&bytes).err(),
            Some(WireError::Decode("LimitExceeded".into()))
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_frame(&bytes);
        }

        #[test]
        fn mutated_frames_never_panic(index in any::<usize>(), value in any::<u8>(),
                                      cut in any::<usize>()) {
            let mut bytes = encode(&hello()).unwrap();
            let i = index % bytes.len();
            bytes[i] = value;
            bytes.truncate(cut % (bytes.len() + 1));
            let _ = decode_frame(&bytes);
        }
    }
}
