//! Keys derived from the cluster secret, and the sealing of datagrams.
//!
//! Two keys come out of one HKDF-SHA256 extraction: a Noise pre-shared key for TCP streams and an
//! XChaCha20-Poly1305 key for UDP datagrams. The cluster name salts the extraction, so two
//! clusters that share a secret still cannot read each other. A loopback-only cluster may run
//! without a secret; it then derives from a fixed label, which keeps frames authenticated against
//! corruption and other clusters' nodes, but not against a local attacker.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::config::NodeConfig;

const NO_SECRET: &[u8] = b"openmrs-cluster/loopback-without-secret";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The magic that opens every sealed datagram, so a stray packet of another protocol is told
/// apart from a tampered one in the logs.
pub const DATAGRAM_MAGIC: [u8; 4] = *b"OMCu";
/// Bytes a sealed datagram adds around its payload.
pub const DATAGRAM_OVERHEAD: usize = DATAGRAM_MAGIC.len() + 1 + NONCE_LEN + TAG_LEN;

#[derive(Clone)]
pub struct ClusterKeys {
    pub noise_psk: [u8; 32],
    datagram: XChaCha20Poly1305,
    /// Bound into every datagram's tag: a node of another wire protocol or app version fails
    /// authentication instead of being parsed.
    datagram_context: Vec<u8>,
}

impl std::fmt::Debug for ClusterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKeys(..)")
    }
}

impl ClusterKeys {
    pub fn derive(config: &NodeConfig, protocol_version: u8) -> ClusterKeys {
        let ikm = config
            .secret
            .as_deref()
            .map(str::as_bytes)
            .unwrap_or(NO_SECRET);
        let hk = Hkdf::<Sha256>::new(Some(config.cluster_name.as_bytes()), ikm);
        let mut noise_psk = [0u8; 32];
        let mut datagram_key = [0u8; 32];
        // Both labels are fixed and 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        hk.expand(b"openmrs-cluster/noise-psk/v1", &mut noise_psk)
            .expect("32 bytes is a valid HKDF output length");
        hk.expand(b"openmrs-cluster/datagram/v1", &mut datagram_key)
            .expect("32 bytes is a valid HKDF output length");
        let mut datagram_context = DATAGRAM_MAGIC.to_vec();
        datagram_context.push(protocol_version);
        datagram_context.extend_from_slice(config.app_version.as_bytes());
        ClusterKeys {
            noise_psk,
            datagram: XChaCha20Poly1305::new(&datagram_key.into()),
            datagram_context,
        }
    }

    /// `magic | protocol | nonce | ciphertext+tag`; the nonce is random (192 bits leave no
    /// practical chance of reuse without any state shared between nodes).
    pub fn seal_datagram(&self, protocol_version: u8, payload: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = self
            .datagram
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: payload,
                    aad: &self.datagram_context,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(DATAGRAM_OVERHEAD + payload.len());
        out.extend_from_slice(&DATAGRAM_MAGIC);
        out.push(protocol_version);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Authenticates and decrypts a datagram; nothing of it is trusted before this succeeds.
    pub fn open_datagram(&self, datagram: &[u8]) -> Result<Vec<u8>, DatagramError> {
        if datagram.len() < DATAGRAM_OVERHEAD {
            return Err(DatagramError::Short(datagram.len()));
        }
        let (magic, rest) = datagram.split_at(DATAGRAM_MAGIC.len());
        if magic != DATAGRAM_MAGIC {
            return Err(DatagramError::NotOurs);
        }
        let (version, rest) = rest.split_at(1);
        let expected = self.datagram_context[DATAGRAM_MAGIC.len()];
        if version[0] != expected {
            return Err(DatagramError::Protocol {
                theirs: version[0],
                ours: expected,
            });
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        self.datagram
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &self.datagram_context,
                },
            )
            .map_err(|_| DatagramError::Unauthenticated)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    #[error("datagram of {0} bytes is too short to be sealed")]
    Short(usize),
    #[error("datagram does not start with this protocol's magic")]
    NotOurs,
    #[error("datagram speaks wire protocol {theirs}, this node speaks {ours}")]
    Protocol { theirs: u8, ours: u8 },
    #[error("datagram failed authentication: another cluster, secret or app version")]
    Unauthenticated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(secret: Option<&str>, cluster: &str, version: &str) -> ClusterKeys {
        let mut config = NodeConfig::loopback(cluster);
        config.secret = secret.map(str::to_string);
        config.app_version = version.to_string();
        ClusterKeys::derive(&config, 1)
    }

    #[test]
    fn round_trip() {
        let k = keys(Some("a very secret secret"), "c", "1");
        let sealed = k.seal_datagram(1, b"hello");
        assert_eq!(k.open_datagram(&sealed).unwrap(), b"hello");
    }

    #[test]
    fn other_secret_cluster_or_version_is_refused() {
        let ours = keys(Some("a very secret secret"), "c", "1");
        let sealed = ours.seal_datagram(1, b"hello");
        for other in [
            keys(Some("another secret value"), "c", "1"),
            keys(Some("a very secret secret"), "d", "1"),
            keys(Some("a very secret secret"), "c", "2"),
            keys(None, "c", "1"),
        ] {
            assert_eq!(
                other.open_datagram(&sealed),
                Err(DatagramError::Unauthenticated)
            );
        }
    }

    proptest! {
        #[test]
        fn random_datagrams_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let k = keys(None, "c", "1");
            prop_assert!(k.open_datagram(&bytes).is_err());
        }

        #[test]
        fn any_flipped_bit_is_refused(payload in proptest::collection::vec(any::<u8>(), 0..300),
                                      bit in any::<usize>()) {
            let k = keys(None, "c", "1");
            let mut sealed = k.seal_datagram(1, &payload);
            let bit = bit % (sealed.len() * 8);
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(k.open_datagram(&sealed).is_err());
        }
    }
}
