//! foca's messages in bincode 2. Input reaches this codec only after the datagram was
//! authenticated, and it is still decoded with a byte limit: a bug in a peer must not make this
//! node allocate without bound.

use bytes::{Buf, BufMut};
use foca::{Header, Member};
use serde::{de::DeserializeOwned, Serialize};

use super::NodeIdentity;

const LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{0}")]
    Encode(String),
    #[error("{0}")]
    Decode(String),
    #[error("no room left in the packet")]
    NoRoom,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct BincodeCodec;

fn config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<LIMIT>,
> {
    bincode::config::standard().with_limit::<LIMIT>()
}

fn put<T: Serialize>(value: &T, mut buf: impl BufMut) -> Result<(), CodecError> {
    let bytes = bincode::serde::encode_to_vec(value, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    // foca asks that a value that does not fit leaves the buffer untouched.
    if buf.remaining_mut() < bytes.len() {
        return Err(CodecError::NoRoom);
    }
    buf.put_slice(&bytes);
    Ok(())
}

fn take<T: DeserializeOwned>(mut buf: impl Buf) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(buf.chunk(), config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    buf.advance(used);
    Ok(value)
}

impl foca::Codec<NodeIdentity> for BincodeCodec {
    type Error = CodecError;

    fn encode_header(
        &mut self,
        header: &Header<NodeIdentity>,
        buf: impl BufMut,
    ) -> Result<(), CodecError> {
        put(header, buf)
    }

    fn decode_header(&mut self, buf: impl Buf) -> Result<Header<NodeIdentity>, CodecError> {
        take(buf)
    }

    fn encode_member(
        &mut self,
        member: &Member<NodeIdentity>,
        buf: impl BufMut,
    ) -> Result<(), CodecError> {
        put(member, buf)
    }

    fn decode_member(&mut self, buf: impl Buf) -> Result<Member<NodeIdentity>, CodecError> {
        take(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foca::Codec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut codec = BincodeCodec;
            let _ = codec.decode_header(&bytes[..]);
            let _ = codec.decode_member(&bytes[..]);
        }
    }

    #[test]
    fn a_member_that_does_not_fit_leaves_the_buffer_clean() {
        let member = Member::alive(NodeIdentity::new(
            "a".into(),
            "127.0.0.1:1".parse().unwrap(),
            "1".into(),
            1,
        ));
        let mut small = [0u8; 4];
        let mut slice = &mut small[..];
        assert!(BincodeCodec.encode_member(&member, &mut slice).is_err());
        assert_eq!(small, [0u8; 4]);
    }
}
