//! Every value that is encoded decodes to the same value: every wire body with what nests in it,
//! foca's packets, stream framing, journal records, snapshots, cache record sets and event
//! batches (generators in native/src/fuzzing/strategies.rs).

use openmrs_cluster::fuzzing::TARGETS;
use proptest::test_runner::{Config, TestRunner};

#[test]
fn every_value_encoded_decodes_to_the_same_value() {
    for target in TARGETS {
        let mut runner = TestRunner::new(Config {
            cases: 200,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = (target.round_trips)(&mut runner) {
            panic!("{}: {e}", target.name);
        }
    }
}
