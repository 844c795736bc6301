//! A member that receives datagrams as a node's membership task does, and the packets a peer
//! sends it while they get to know each other: valid input for foca that is addressed to this
//! member, so that mutations of it reach past foca's first checks.

use std::sync::OnceLock;

use foca::{AccumulatingRuntime, Foca, NoCustomBroadcast, Timer};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::crypto::ClusterKeys;
use crate::membership::codec::BincodeCodec;
use crate::membership::{swim_config, NodeIdentity};
use crate::wire::PROTOCOL_VERSION;

type Member = Foca<NodeIdentity, BincodeCodec, StdRng, NoCustomBroadcast>;

const ROUNDS: usize = 6;

pub fn keys() -> &'static ClusterKeys {
    static KEYS: OnceLock<ClusterKeys> = OnceLock::new();
    // Random keys: inputs are sealed and opened in one process, and stretching a secret would
    // put Argon2's 64 MiB in the first decode's allocations.
    KEYS.get_or_init(|| ClusterKeys::derive(None, "fuzz", "unversioned", PROTOCOL_VERSION))
}

fn identity(port: u16) -> NodeIdentity {
    NodeIdentity {
        name: format!("node-{port}"),
        addr: ([127, 0, 0, 1], port).into(),
        app_version: "2.7.0".into(),
        incarnation: 1,
        raft_id: u64::from(port),
    }
}

fn member(port: u16) -> Member {
    Foca::new(
        identity(port),
        swim_config(),
        StdRng::seed_from_u64(u64::from(port)),
        BincodeCodec,
    )
}

/// Hands `payload` to a new member as a datagram just opened; true if foca took it.
pub fn receive(payload: &[u8]) -> bool {
    member(7001)
        .handle_data(payload, &mut AccumulatingRuntime::new())
        .is_ok()
}

/// What a peer sends the receiving member while it announces itself, gossips and probes:
/// packets are exchanged and the timers due fired at once, for a few rounds.
pub fn packets() -> Vec<Vec<u8>> {
    static PACKETS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PACKETS
        .get_or_init(|| {
            let (mut ours, mut peer) = (member(7001), member(7002));
            // What each one asks for: datagrams to send, timers to set.
            let (mut of_ours, mut of_peer) =
                (AccumulatingRuntime::new(), AccumulatingRuntime::new());
            let mut sent = Vec::new();
            let _ = peer.announce(identity(7001), &mut of_peer);
            for _ in 0..ROUNDS {
                while let Some((_, data)) = of_peer.to_send() {
                    sent.push(data.to_vec());
                    let _ = ours.handle_data(&data, &mut of_ours);
                }
                while let Some((_, data)) = of_ours.to_send() {
                    let _ = peer.handle_data(&data, &mut of_peer);
                }
                // Taken first: a timer fired may set itself again.
                for timer in timers(&mut of_peer) {
                    let _ = peer.handle_timer(timer, &mut of_peer);
                }
                for timer in timers(&mut of_ours) {
                    let _ = ours.handle_timer(timer, &mut of_ours);
                }
            }
            sent
        })
        .clone()
}

fn timers(runtime: &mut AccumulatingRuntime<NodeIdentity>) -> Vec<Timer<NodeIdentity>> {
    std::iter::from_fn(|| runtime.to_schedule().map(|(_, timer)| timer)).collect()
}
