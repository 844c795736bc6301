//! One AFL++ target per decoder a peer or the disk reaches (native/src/fuzzing):
//! `cargo afl fuzz ... -- fuzz <target>`, or `fuzz <target> < input` to replay one input.
//! An input fails when decoding it panics, holds more than the allocation bound of
//! tests/decode_alloc.rs, or yields a value that does not decode again to itself.

#[path = "../../support/peak_alloc.rs"]
mod peak_alloc;

use openmrs_cluster::fuzzing::{self, TARGETS};

#[global_allocator]
static ALLOC: peak_alloc::Counting = peak_alloc::Counting;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = fuzzing::find(&name) else {
        let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
        eprintln!("usage: fuzz <target>, one of: {}", names.join(" "));
        std::process::exit(2);
    };
    afl::fuzz!(|input: &[u8]| {
        let peak = peak_alloc::peak_during(|| {
            (target.decode)(input);
        });
        assert!(
            peak <= peak_alloc::allowed(input.len()),
            "{peak} bytes held for {} bytes of input",
            input.len()
        );
        (target.check)(input);
    });
}
