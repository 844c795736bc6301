//! Each decoder with the encoder that inverts it, as its own module calls them.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Buf;
use foca::{Codec as _, Header, Member};
use proptest::collection::vec;
use proptest::prelude::*;

use super::{strategies, swim, Codec};
use crate::cache::CacheBatch;
use crate::consensus::journal::{self, Record};
use crate::consensus::state_machine::{decode_state, encode_state};
use crate::coordination::CoordinationState;
use crate::events::EventBatch;
use crate::membership::codec::BincodeCodec;
use crate::membership::NodeIdentity;
use crate::transport::stream::{read_block, Incoming, CHUNK_PLAINTEXT, NOISE_MAX_MESSAGE};
use crate::wire::{self, Frame};

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    wire::encode(value).expect("a decoded value encodes")
}

pub struct Frames;

impl Codec for Frames {
    type Value = Frame;
    fn decode(input: &[u8]) -> Option<Frame> {
        wire::decode_frame(input).ok()
    }
    fn encode(frame: &Frame) -> Vec<u8> {
        encode(frame)
    }
    fn values() -> BoxedStrategy<Frame> {
        strategies::frame()
    }
}

/// The bytes are what a member put in a datagram: sealed here as the sender does, then opened
/// and handed to foca as the receiver does. The bytes are also opened as they are, as a
/// stranger's datagram, which the receiver parses before anything is authenticated.
pub struct Datagrams;

impl Codec for Datagrams {
    type Value = Vec<u8>;
    fn decode(input: &[u8]) -> Option<Vec<u8>> {
        let keys = swim::keys();
        let _ = keys.open_datagram(input);
        let sealed = keys.seal_datagram(wire::PROTOCOL_VERSION, input);
        let opened = keys
            .open_datagram(&sealed)
            .expect("a datagram sealed with the cluster's keys opens");
        assert!(opened == input, "the datagram's payload changed");
        swim::receive(&opened).then_some(opened)
    }
    fn encode(payload: &Vec<u8>) -> Vec<u8> {
        payload.clone()
    }
    fn values() -> BoxedStrategy<Vec<u8>> {
        proptest::sample::select(swim::packets()).boxed()
    }
}

/// A header, then members until the bytes end: the codec's own part of foca's packets.
pub struct Swim;

type SwimPacket = (Header<NodeIdentity>, Vec<Member<NodeIdentity>>);

impl Codec for Swim {
    type Value = SwimPacket;
    fn decode(mut input: &[u8]) -> Option<SwimPacket> {
        let header = BincodeCodec.decode_header(&mut input).ok()?;
        let mut members = Vec::new();
        while input.has_remaining() {
            members.push(BincodeCodec.decode_member(&mut input).ok()?);
        }
        Some((header, members))
    }
    fn encode((header, members): &SwimPacket) -> Vec<u8> {
        let mut out = Vec::new();
        BincodeCodec
            .encode_header(header, &mut out)
            .expect("a decoded header encodes");
        for member in members {
            BincodeCodec
                .encode_member(member, &mut out)
                .expect("a decoded member encodes");
        }
        out
    }
    fn values() -> BoxedStrategy<SwimPacket> {
        (
            strategies::foca_header(),
            vec(strategies::foca_member(), 0..4),
        )
            .boxed()
    }
}

/// The frames a stream reader assembles when every block decrypts to itself: the block reader
/// and the chunk assembly, past the Noise tags that a fuzzer cannot forge.
pub struct Stream;

/// Runs a read from a slice, which never waits.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("a read from a slice never waits"),
    }
}

impl Codec for Stream {
    type Value = Vec<u8>;
    fn decode(mut input: &[u8]) -> Option<Vec<u8>> {
        let mut block = Vec::new();
        ready(read_block(&mut input, NOISE_MAX_MESSAGE, &mut block)).ok()?;
        let mut frame = Incoming::start(std::mem::take(&mut block)).ok()?;
        while !frame.is_whole() {
            ready(read_block(&mut input, NOISE_MAX_MESSAGE, &mut block)).ok()?;
            frame.add(&block).ok()?;
        }
        frame.finish().ok()
    }
    fn encode(frame: &Vec<u8>) -> Vec<u8> {
        let mut plain = (frame.len() as u32).to_be_bytes().to_vec();
        plain.extend_from_slice(frame);
        let mut out = Vec::new();
        for chunk in plain.chunks(CHUNK_PLAINTEXT) {
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }
    fn values() -> BoxedStrategy<Vec<u8>> {
        // Small frames, and frames of one to three chunks and a bit, of one repeated byte.
        let large = (1..4usize, 0..64usize, any::<u8>())
            .prop_map(|(chunks, extra, byte)| vec![byte; chunks * CHUNK_PLAINTEXT + extra]);
        prop_oneof![vec(any::<u8>(), 0..256), large].boxed()
    }
}

/// Records as the journal file holds them (header, then checksummed records); damage other than
/// a torn tail is refused.
pub struct Journal;

impl Codec for Journal {
    type Value = Vec<Record>;
    fn decode(input: &[u8]) -> Option<Vec<Record>> {
        journal::replay::<Record>(std::path::Path::new("fuzz"), input, journal::RECORD_LIMIT)
            .ok()
            .map(|replay| replay.records)
    }
    fn encode(records: &Vec<Record>) -> Vec<u8> {
        let mut file = journal::file_header().to_vec();
        for record in records {
            journal::push_record(record, &mut file).expect("a decoded record encodes");
        }
        file
    }
    fn values() -> BoxedStrategy<Vec<Record>> {
        vec(strategies::journal_record(), 0..4).boxed()
    }
}

pub struct Snapshot;

impl Codec for Snapshot {
    type Value = CoordinationState;
    fn decode(input: &[u8]) -> Option<CoordinationState> {
        decode_state(input).ok()
    }
    fn encode(state: &CoordinationState) -> Vec<u8> {
        encode_state(state).expect("a decoded state encodes")
    }
    fn values() -> BoxedStrategy<CoordinationState> {
        strategies::coordination_state()
    }
}

/// Also walks the set as the receiver does, which looks each record's cache name up.
pub struct CacheWrites;

impl Codec for CacheWrites {
    type Value = CacheBatch;
    fn decode(input: &[u8]) -> Option<CacheBatch> {
        let batch: CacheBatch = wire::decode(input).ok()?;
        assert!(batch.set.iter().count() <= batch.set.len());
        Some(batch)
    }
    fn encode(batch: &CacheBatch) -> Vec<u8> {
        encode(batch)
    }
    fn values() -> BoxedStrategy<CacheBatch> {
        strategies::cache_batch()
    }
}

pub struct Events;

impl Codec for Events {
    type Value = EventBatch;
    fn decode(input: &[u8]) -> Option<EventBatch> {
        wire::decode(input).ok()
    }
    fn encode(batch: &EventBatch) -> Vec<u8> {
        encode(batch)
    }
    fn values() -> BoxedStrategy<EventBatch> {
        strategies::event_batch()
    }
}
