//! Keys derived from the cluster secret, and the sealing of datagrams.
//!
//! The secret is stretched with Argon2id (64 MiB, 3 passes) before anything is derived from it:
//! a recorded handshake lets an eavesdropper test guesses offline, and each guess must cost
//! what a start costs (about 0.1-0.2 s and 64 MiB here), not the microseconds of a bare hash.
//! The cluster name salts the stretching, so two clusters that share a secret still cannot read
//! each other. Two keys come out of one HKDF-SHA256 expansion of the stretched secret: a Noise
//! pre-shared key for TCP streams and an XChaCha20-Poly1305 key for UDP datagrams. A node
//! without a secret gets random keys: nothing else can talk to it (`Cluster.embedded()`).

use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Params};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Argon2id's cost: memory in KiB and passes. Measured here at about 170 ms per derivation on a
/// busy 2-core machine: well under a second at start, and an offline guess costs as much.
const STRETCH_MEMORY_KIB: u32 = 64 * 1024;
const STRETCH_PASSES: u32 = 3;
/// Stretched secrets kept per process: tests and a JVM that restarts its module start several
/// nodes of one cluster, and each would pay the stretching again.
const STRETCHED_KEPT: usize = 8;

/// The cluster secret. Never shown by `Debug` (configs are logged and put in panics), and wiped
/// from memory when dropped.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(text.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The secret stretched for one cluster name, keyed by a digest of both so that the table holds
/// no secret in the clear.
type Stretched = ([u8; 32], Zeroizing<[u8; 32]>);

static STRETCHED: Mutex<Vec<Stretched>> = Mutex::new(Vec::new());

fn stretch(secret: &Secret, cluster_name: &str) -> Zeroizing<[u8; 32]> {
    let salt: [u8; 32] = Sha256::new()
        .chain_update(b"openmrs-cluster/argon2id-salt/v1\0")
        .chain_update(cluster_name.as_bytes())
        .finalize()
        .into();
    let lookup: [u8; 32] = Sha256::new()
        .chain_update(salt)
        .chain_update(secret.expose().as_bytes())
        .finalize()
        .into();
    let mut kept = STRETCHED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, key)) = kept.iter().find(|(id, _)| *id == lookup) {
        return key.clone();
    }
    let params = Params::new(STRETCH_MEMORY_KIB, STRETCH_PASSES, 1, Some(32))
        .expect("constant Argon2 parameters are within its bounds");
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(secret.expose().as_bytes(), &salt, key.as_mut())
        .expect("a 32-byte salt and output are within Argon2's bounds");
    if kept.len() >= STRETCHED_KEPT {
        kept.remove(0);
    }
    kept.push((lookup, key.clone()));
    key
}

/// The magic that opens every sealed datagram, so a stray packet of another protocol is told
/// apart from a tampered one in the logs.
pub const DATAGRAM_MAGIC: [u8; 4] = *b"OMCu";
/// Bytes a sealed datagram adds around its payload.
pub const DATAGRAM_OVERHEAD: usize = DATAGRAM_MAGIC.len() + 1 + NONCE_LEN + TAG_LEN;

#[derive(Clone)]
pub struct ClusterKeys {
    pub noise_psk: [u8; 32],
    /// The node name this node gives when it opens a stream. It travels inside the handshake's
    /// first message, sealed with the pre-shared key, so only a key holder can give one; the
    /// receiver admits frames only from names it knows as members.
    introduction: std::sync::Arc<str>,
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
    /// The keys of cluster `cluster_name` for nodes of `app_version` speaking `protocol_version`;
    /// without a secret, random keys no other node has.
    pub fn derive(
        secret: Option<&Secret>,
        cluster_name: &str,
        app_version: &str,
        protocol_version: u8,
    ) -> ClusterKeys {
        let ikm = match secret {
            Some(secret) => stretch(secret, cluster_name),
            None => {
                let mut random = Zeroizing::new([0u8; 32]);
                rand::fill(random.as_mut());
                random
            }
        };
        let hk = Hkdf::<Sha256>::new(Some(cluster_name.as_bytes()), ikm.as_ref());
        let mut noise_psk = [0u8; 32];
        let mut datagram_key = Zeroizing::new([0u8; 32]);
        // Both labels are fixed and 32 bytes is far below HKDF-SHA256's 8160-byte output limit.
        hk.expand(b"openmrs-cluster/noise-psk/v2", &mut noise_psk)
            .expect("32 bytes is a valid HKDF output length");
        hk.expand(b"openmrs-cluster/datagram/v2", datagram_key.as_mut())
            .expect("32 bytes is a valid HKDF output length");
        let mut datagram_context = DATAGRAM_MAGIC.to_vec();
        datagram_context.push(protocol_version);
        datagram_context.extend_from_slice(app_version.as_bytes());
        ClusterKeys {
            noise_psk,
            introduction: std::sync::Arc::from(""),
            datagram: XChaCha20Poly1305::new(datagram_key.as_ref().into()),
            datagram_context,
        }
    }

    /// The same keys, for the node named `name` to open streams with.
    pub fn introducing(self, name: &str) -> ClusterKeys {
        ClusterKeys {
            introduction: std::sync::Arc::from(name),
            ..self
        }
    }

    pub fn introduction(&self) -> &str {
        &self.introduction
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
        ClusterKeys::derive(secret.map(Secret::new).as_ref(), cluster, version, 1)
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

    #[test]
    fn nodes_without_a_secret_share_nothing() {
        let sealed = keys(None, "c", "1").seal_datagram(1, b"hello");
        assert_eq!(
            keys(None, "c", "1").open_datagram(&sealed),
            Err(DatagramError::Unauthenticated)
        );
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
