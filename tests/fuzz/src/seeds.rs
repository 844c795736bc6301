//! Writes valid inputs for AFL++ to start from, built from the generators of
//! native/src/fuzzing/strategies.rs, so that the fuzzer begins past the outer layers of nested
//! bodies: `seeds <dir> [target]` writes `<dir>/<target>/<n>` and prints each target's name.

use std::path::Path;

use openmrs_cluster::fuzzing::TARGETS;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

const SEEDS: usize = 32;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: seeds <dir> [target]");
        std::process::exit(2);
    };
    let only = args.next();
    for target in TARGETS
        .iter()
        .filter(|t| only.as_deref().is_none_or(|name| name == t.name))
    {
        let out = Path::new(&dir).join(target.name);
        std::fs::create_dir_all(&out)?;
        let valid = (target.valid)();
        let mut runner = TestRunner::deterministic();
        for n in 0..SEEDS {
            let input = valid
                .new_tree(&mut runner)
                .expect("the generators never reject")
                .current();
            std::fs::write(out.join(format!("{n:02}")), input)?;
        }
        println!("{}", target.name);
    }
    Ok(())
}
