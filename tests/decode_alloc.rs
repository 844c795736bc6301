//! Decoding holds at most a small multiple of its input: every decoder a peer or the disk
//! reaches (native/src/fuzzing) is run on random bytes, on valid encodings and on valid
//! encodings mutated (bytes set, big declared lengths put in, cut short), and the most bytes it
//! held at once is checked against `peak_alloc::allowed`.

#[path = "support/peak_alloc.rs"]
mod peak_alloc;

use openmrs_cluster::fuzzing::{Target, TARGETS};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[global_allocator]
static ALLOC: peak_alloc::Counting = peak_alloc::Counting;

#[derive(Debug, Clone)]
enum Mutation {
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Cut(Index),
}

/// Lengths of every magnitude, each as bincode writes it (its varint) and as the stream and the
/// journal write theirs (four bytes, either order).
fn length() -> impl Strategy<Value = Vec<u8>> {
    (
        (any::<u64>(), 0..64u32).prop_map(|(n, shift)| n >> shift),
        0..3u8,
    )
        .prop_map(|(n, form)| match form {
            0 => varint(n),
            1 => (n as u32).to_be_bytes().to_vec(),
            _ => (n as u32).to_le_bytes().to_vec(),
        })
}

fn varint(n: u64) -> Vec<u8> {
    match n {
        0..=250 => vec![n as u8],
        251..=0xffff => [&[251u8][..], &(n as u16).to_le_bytes()].concat(),
        0x1_0000..=0xffff_ffff => [&[252u8][..], &(n as u32).to_le_bytes()].concat(),
        _ => [&[253u8][..], &n.to_le_bytes()].concat(),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        3 => (any::<Index>(), length()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => any::<Index>().prop_map(Mutation::Cut),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: Vec<Mutation>) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Set(at, byte) if len > 0 => bytes[at.index(len)] = byte,
            Mutation::Set(..) => {}
            Mutation::Insert(at, inserted) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, inserted);
            }
            Mutation::Cut(at) => bytes.truncate(at.index(len + 1)),
        }
    }
    bytes
}

fn inputs(valid: BoxedStrategy<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..256),
        1 => valid.clone(),
        3 => (valid, vec(mutation(), 1..4)).prop_map(|(bytes, ms)| mutate(bytes, ms)),
    ]
}

fn within_bound(target: &Target, input: &[u8]) -> Result<(), TestCaseError> {
    let peak = peak_alloc::peak_during(|| {
        (target.decode)(input);
    });
    let allowed = peak_alloc::allowed(input.len());
    if peak > allowed {
        return Err(TestCaseError::fail(format!(
            "{peak} bytes held for {} bytes of input (allowed {allowed})",
            input.len()
        )));
    }
    Ok(())
}

/// Runs `property` on `cases` inputs of every target and fails naming each target it failed on.
fn for_every_target<S: Strategy>(
    cases: u32,
    inputs: impl Fn(&Target) -> S,
    property: impl Fn(&Target, S::Value) -> Result<(), TestCaseError>,
) {
    let mut failed = Vec::new();
    for target in TARGETS {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&inputs(target), |input| property(target, input)) {
            failed.push(format!("{}: {e}", target.name));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn random_and_mutated_inputs() {
    for_every_target(
        400,
        |target| inputs((target.valid)()),
        |target, input| within_bound(target, &input),
    );
}

/// Places tried from the front: lengths sit in the headers, and the stream's big frames are all payload.
const PLACES: usize = 512;

/// Lengths over the bound's constant, under the frames' limit and under the snapshots' one.
const BIG: [u64; 3] = [2 << 20, 15 << 20, 250 << 20];

/// Every place of a valid input, given a big declared length in each form: whichever field
/// it lands in, the decoder must not reserve it.
#[test]
fn a_big_length_at_every_place_of_a_valid_input() {
    for_every_target(
        3,
        |target| (target.valid)(),
        |target, valid| {
            for at in 0..=valid.len().min(PLACES) {
                for length in BIG.iter().flat_map(|&n| {
                    [
                        varint(n),
                        (n as u32).to_be_bytes().to_vec(),
                        (n as u32).to_le_bytes().to_vec(),
                    ]
                }) {
                    let mut input = valid.clone();
                    input.splice(at..at, length);
                    within_bound(target, &input)?;
                }
            }
            Ok(())
        },
    );
}
