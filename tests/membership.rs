//! Several real nodes in one process, talking over loopback sockets: forming, joining in any
//! order, failure detection, graceful leave, and refusals.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::*;
use openmrs_cluster::crypto::Secret;
use openmrs_cluster::{ClusterError, Node};

fn all_see(nodes: &[&Node], expected: &[&str]) -> bool {
    nodes.iter().all(|n| names(n) == expected)
}

#[test]
fn nodes_started_one_after_another_form_one_cluster() {
    let ip = loopback(1);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    let c = Node::start(config("c", free_addr(ip), &[seed])).unwrap();
    let took = wait_for("three members everywhere", Duration::from_secs(5), || {
        all_see(&[&a, &b, &c], &["a", "b", "c"])
    });
    println!("3 nodes agree on membership {took:?} after the last start");
    let status = a.status().unwrap();
    assert_eq!(status.role, "LEADER");
    assert_eq!(status.leader.as_deref(), Some("a"));
    assert_eq!(status.members.len(), 3);
}

#[test]
fn nodes_started_at_once_with_one_seed_list_form_one_cluster() {
    let ip = loopback(2);
    let addrs: Vec<_> = (0..3).map(|_| free_addr(ip)).collect();
    let started = std::time::Instant::now();
    let handles: Vec<_> = ["x", "y", "z"]
        .iter()
        .zip(addrs.clone())
        .map(|(name, addr)| {
            let cfg = config(name, addr, &addrs);
            std::thread::spawn(move || Node::start(cfg).unwrap())
        })
        .collect();
    let nodes: Vec<Node> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let refs: Vec<&Node> = nodes.iter().collect();
    wait_for("one cluster of three", Duration::from_secs(10), || {
        all_see(&refs, &["x", "y", "z"])
    });
    println!(
        "3 nodes started at once formed one cluster in {:?}",
        started.elapsed()
    );
}

#[test]
fn a_halted_node_is_declared_down_by_every_other_node() {
    let ip = loopback(3);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    let c = Node::start(config("c", free_addr(ip), &[seed])).unwrap();
    wait_for("three members", Duration::from_secs(5), || {
        all_see(&[&a, &b, &c], &["a", "b", "c"])
    });
    c.halt();
    let took = wait_for("c declared down", Duration::from_secs(5), || {
        all_see(&[&a, &b], &["a", "b"])
    });
    println!("a halted node was declared down by both others in {took:?}");
}

#[test]
fn a_closed_node_is_dropped_at_once() {
    let ip = loopback(4);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    wait_for("two members", Duration::from_secs(5), || {
        all_see(&[&a, &b], &["a", "b"])
    });
    b.close();
    let took = wait_for("b gone", Duration::from_millis(500), || names(&a) == ["a"]);
    println!("a closed node left the view in {took:?}");
    assert!(matches!(b.members(), Err(ClusterError::Closed(_))));
}

#[test]
fn a_node_of_another_app_version_is_refused_naming_both() {
    let ip = loopback(5);
    let seed = free_addr(ip);
    let mut first = config("a", seed, &[seed]);
    first.app_version = "2.7.0".into();
    let a = Node::start(first).unwrap();
    let mut other = config("b", free_addr(ip), &[seed]);
    other.app_version = "2.7.1".into();
    let err = Node::start(other).err().expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("2.7.1") && message.contains("2.7.0"),
        "{message}"
    );
    assert!(matches!(err, ClusterError::Refused(_)));
    assert_eq!(names(&a), ["a"]);
}

#[test]
fn a_node_with_a_wrong_secret_is_refused_and_never_listed() {
    let ip = loopback(6);
    let seed = free_addr(ip);
    let mut first = config("a", seed, &[seed]);
    first.secret = Some(Secret::new("the right secret, long enough"));
    let a = Node::start(first).unwrap();
    let mut other = config("b", free_addr(ip), &[seed]);
    other.secret = Some(Secret::new("a wrong secret, long enough"));
    let err = Node::start(other).err().expect("refused");
    assert!(err.to_string().contains("secret"), "{err}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(names(&a), ["a"]);
}

#[test]
fn a_name_in_use_is_refused() {
    let ip = loopback(7);
    let seed = free_addr(ip);
    let _a = Node::start(config("a", seed, &[seed])).unwrap();
    let err = Node::start(config("a", free_addr(ip), &[seed]))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("already used"), "{err}");
}

#[test]
fn strangers_and_garbage_do_not_harm_a_node() {
    let ip = loopback(8);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    // Garbage on the stream port: not our magic, then our magic with a garbled handshake,
    // then a huge declared block length.
    for payload in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        [b"OMCt".as_slice(), &[1u8, 0, 4, 1, 2, 3, 4]].concat(),
        [b"OMCt".as_slice(), &[1u8, 0xff, 0xff]].concat(),
        [b"OMCt".as_slice(), &[9u8]].concat(),
    ] {
        let mut s = TcpStream::connect(seed).unwrap();
        let _ = s.write_all(&payload);
    }
    let udp = UdpSocket::bind((ip, 0)).unwrap();
    for len in [0usize, 1, 45, 1400, 9000] {
        let _ = udp.send_to(&vec![0xA5; len], seed);
    }
    std::thread::sleep(Duration::from_millis(200));
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    wait_for("still forms", Duration::from_secs(5), || {
        all_see(&[&a, &b], &["a", "b"])
    });
}

#[test]
fn a_node_that_is_not_a_seed_never_forms_alone() {
    let ip = loopback(9);
    let nobody = free_addr(ip);
    let mut lonely = config("n", free_addr(ip), &[nobody]);
    lonely.join_timeout = Duration::from_millis(800);
    let err = Node::start(lonely).err().expect("times out");
    assert!(matches!(err, ClusterError::JoinTimeout(_)), "{err}");
    assert!(err.to_string().contains("cluster.join.timeout.ms"), "{err}");
}
