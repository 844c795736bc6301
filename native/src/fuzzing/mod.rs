//! Every decoder that reads bytes a peer or the disk wrote, by one name each, with what must hold
//! of what it accepts and valid inputs to start from: what the fuzz targets (tests/fuzz) and the
//! decoding tests (tests/round_trip.rs, tests/decode_alloc.rs) run.
//!
//! Compiled only with the `fuzzing` feature, which the crate's own tests turn on: so a decoder
//! renamed or changed elsewhere breaks `cargo test` at once instead of a fuzz package that CI
//! never builds.

mod codecs;
pub mod strategies;
mod swim;

use proptest::strategy::{BoxedStrategy, Strategy};
use proptest::test_runner::TestRunner;

/// One decoder as the fuzzer and the tests see it.
pub struct Target {
    pub name: &'static str,
    /// Where its input comes from, for docs/security.md.
    pub feeds: &'static str,
    /// Runs the decoder on `input`; true if it accepted it. Checks nothing else, so that the
    /// allocation test measures the decoding alone.
    pub decode: fn(&[u8]) -> bool,
    /// Runs the decoder and, if it accepted `input`, asserts that what it made encodes to bytes
    /// that decode to the same again (`same_again`). Panics when that does not hold.
    pub check: fn(&[u8]),
    /// Runs `same_again` on generated values with `runner`: encode, decode, equal.
    pub round_trips: fn(&mut TestRunner) -> Result<(), String>,
    /// Valid inputs built from generated values: seed corpora, and a start for mutations.
    pub valid: fn() -> BoxedStrategy<Vec<u8>>,
}

/// A decoder with the encoder that inverts it, and values to encode.
trait Codec: 'static {
    type Value: std::fmt::Debug + 'static;
    /// `None`: the input is refused.
    fn decode(input: &[u8]) -> Option<Self::Value>;
    fn encode(value: &Self::Value) -> Vec<u8>;
    fn values() -> BoxedStrategy<Self::Value>;
}

const fn target<C: Codec>(name: &'static str, feeds: &'static str) -> Target {
    Target {
        name,
        feeds,
        decode: accepts::<C>,
        check: check::<C>,
        round_trips: round_trips::<C>,
        valid: valid::<C>,
    }
}

fn accepts<C: Codec>(input: &[u8]) -> bool {
    C::decode(input).is_some()
}

fn check<C: Codec>(input: &[u8]) {
    if let Some(value) = C::decode(input) {
        same_again::<C>(&value);
    }
}

/// Encodes `value`, decodes that and asserts it got the same value back: the same `Debug` and
/// the same encoding (not every type here has `PartialEq`; all keep their maps ordered, so an
/// encoding is canonical).
fn same_again<C: Codec>(value: &C::Value) {
    let encoded = C::encode(value);
    let back = C::decode(&encoded).expect("an encoded value is refused");
    assert_eq!(format!("{value:?}"), format!("{back:?}"));
    assert!(
        C::encode(&back) == encoded,
        "decoding and encoding again changed the bytes"
    );
}

fn round_trips<C: Codec>(runner: &mut TestRunner) -> Result<(), String> {
    runner
        .run(&C::values(), |value| {
            same_again::<C>(&value);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

fn valid<C: Codec>() -> BoxedStrategy<Vec<u8>> {
    C::values().prop_map(|value| C::encode(&value)).boxed()
}

pub const TARGETS: &[Target] = &[
    target::<codecs::Frames>("frame", "a stream's frame, every body (wire::decode_frame)"),
    target::<codecs::Datagrams>(
        "datagram",
        "a sealed datagram (crypto open_datagram), then foca's packet through membership::codec",
    ),
    target::<codecs::Swim>(
        "membership",
        "foca's header and members (membership::codec::BincodeCodec)",
    ),
    target::<codecs::Stream>(
        "stream",
        "a stream's blocks and the frame assembled from them (transport::stream)",
    ),
    target::<codecs::Journal>(
        "journal",
        "the Raft journal and snapshot files (consensus::journal::read_records)",
    ),
    target::<codecs::Snapshot>(
        "snapshot",
        "a state-machine snapshot (consensus::state_machine::decode_state)",
    ),
    target::<codecs::CacheWrites>(
        "cache_records",
        "a batch of cache writes and its record set (cache::records)",
    ),
    target::<codecs::Events>("events", "a batch of events (events::EventBatch)"),
];

pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
