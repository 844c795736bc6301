//! `cluster.data.dir` on a real node: a journal damaged in the middle stops the node from
//! starting, naming the file and the offset, instead of silently dropping committed queue items;
//! a torn last record is dropped and the rest kept; the directory and its files are private.

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use openmrs_cluster::{Node, NodeConfig};

const JOURNAL: &str = "raft-journal.bin";

struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_dir() -> DataDir {
    DataDir(std::env::temp_dir().join(format!("omc-durability-{}", rand::random::<u64>())))
}

fn node_config(addr: SocketAddr, dir: &Path) -> NodeConfig {
    let mut c = config("durable", addr, &[addr]);
    c.raft_voters = 1;
    c.data_dir = Some(dir.to_path_buf());
    c
}

/// A one-node cluster with a data directory that committed `items` queue items, then closed.
fn node_with_items(addr: SocketAddr, dir: &Path, items: u8) {
    let node = Node::start(node_config(addr, dir)).expect("starts");
    for n in 0..items {
        node.queue_offer("hl7", &[n; 64]).expect("offered");
    }
    node.close();
}

/// Where each record of the journal starts (format 2: an 8-byte file header, then records of a
/// 12-byte header whose first 4 bytes are the body's length).
fn record_starts(journal: &Path) -> Vec<usize> {
    let bytes = std::fs::read(journal).expect("journal");
    let mut starts = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        starts.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    starts
}

/// The journal a node left after committing 5 items: its directory, the node's address, the
/// journal's path and where each of its records starts.
fn journal_after_five_items(ip_last: u8) -> (DataDir, SocketAddr, PathBuf, Vec<usize>) {
    let dir = data_dir();
    let addr = free_addr(loopback(ip_last));
    node_with_items(addr, &dir.0, 5);
    let journal = dir.0.join(JOURNAL);
    let starts = record_starts(&journal);
    (dir, addr, journal, starts)
}

#[test]
fn a_journal_damaged_in_the_middle_refuses_to_start_naming_file_and_offset() {
    let (dir, addr, journal, starts) = journal_after_five_items(103);
    assert!(starts.len() >= 19, "{} records", starts.len());
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[starts[2] + 14] ^= 0x01;
    std::fs::write(&journal, &bytes).unwrap();

    let e = Node::start(node_config(addr, &dir.0))
        .err()
        .expect("a damaged journal refuses to start")
        .to_string();
    println!("{e}");
    assert!(
        e.contains(&format!(
            "{} is damaged at byte {}: a record fails its checksum",
            journal.display(),
            starts[2]
        )),
        "{e}"
    );

    // Repaired, the node starts with every committed item.
    bytes[starts[2] + 14] ^= 0x01;
    std::fs::write(&journal, &bytes).unwrap();
    let node = Node::start(node_config(addr, &dir.0)).expect("starts");
    assert_eq!(node.queue_size("hl7").unwrap(), 5);
}

#[test]
fn a_torn_last_record_is_dropped_and_the_rest_kept() {
    let (dir, addr, journal, starts) = journal_after_five_items(104);
    let len = std::fs::metadata(&journal).unwrap().len();
    let last = *starts.last().unwrap() as u64;
    // A crash in the middle of writing the last record.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap()
        .set_len(last + (len - last) / 2)
        .unwrap();
    let node = Node::start(node_config(addr, &dir.0)).expect("starts");
    assert_eq!(node.queue_size("hl7").unwrap(), 5);
    node.queue_offer("hl7", &[9; 64]).unwrap();
    node.close();
    let records = record_starts(&journal);
    assert!(
        records.len() > starts.len(),
        "the journal goes on after the cut"
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_and_its_files_are_private() {
    let dir = data_dir();
    let nested = dir.0.join("cluster");
    node_with_items(free_addr(loopback(105)), &nested, 1);
    assert_eq!(mode(&dir.0), 0o700);
    assert_eq!(mode(&nested), 0o700);
    let files: Vec<_> = std::fs::read_dir(&nested)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.iter().any(|f| f.ends_with(JOURNAL)), "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("node-identity.bin")),
        "{files:?}"
    );
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}

#[test]
fn an_existing_directory_open_to_others_gets_a_warning_naming_it_and_its_mode() {
    openmrs_cluster::logging::install(tracing::Level::WARN);
    let dir = data_dir();
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    node_with_items(free_addr(loopback(106)), &dir.0, 1);
    let shown = dir.0.display().to_string();
    let mut warned = false;
    wait_for("the warning", Duration::from_secs(5), || {
        warned |= openmrs_cluster::logging::poll(Duration::from_millis(100))
            .iter()
            .any(|r| r.message.contains(&shown) && r.message.contains("0755"));
        warned
    });
}
