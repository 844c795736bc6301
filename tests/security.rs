//! What an attacker on the hospital's network can do to a node, tried against real nodes on
//! loopback (docs/security.md lists every case and its measured outcome). Attackers connect
//! from loopback addresses of their own (127.0.66.x), as a host of their own would.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use openmrs_cluster::crypto::ClusterKeys;
use openmrs_cluster::events::EventBatch;
use openmrs_cluster::transport::{self, SecureStream};
use openmrs_cluster::wire::{self, Body, Frame, Hello, PROTOCOL_VERSION};
use openmrs_cluster::{ClusterError, Node};

/// How long a connection that has not shown it belongs may be held: the node's deadline is
/// 5 s (`transport::PROVE_WITHIN`), and the test allows 2 s more for a busy machine.
const HELD_AT_MOST: Duration = Duration::from_secs(7);

fn attacker(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 66, last])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A TCP connection to `to` from the address `from`.
fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::new(from, 0).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(socket.into())
}

/// Whether the node has closed `stream` (EOF or reset), waiting until `deadline` for it.
fn closed_by_peer(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        // A deadline already past still gets one look at what the socket holds.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// A joiner's `Hello` as node `name` at `addr` sends it, its clock reading `clock_ms`.
fn hello(name: &str, addr: SocketAddr, clock_ms: u64) -> Frame {
    Frame::new(Body::Hello(Hello {
        cluster_name: "test-cluster".into(),
        node: openmrs_cluster::membership::NodeIdentity::new(
            name.into(),
            addr,
            "unversioned".into(),
            7,
        ),
        clock_ms,
    }))
}

/// The first bytes a real node sends when it opens a stream (preamble and first handshake
/// message), as an eavesdropper on the network records them.
fn recorded_first_message() -> Vec<u8> {
    let rt = runtime();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let opener = tokio::spawn(async move { SecureStream::connect(addr, &keys_as("n0")).await });
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut recorded = vec![0u8; 7];
        tokio::io::AsyncReadExt::read_exact(&mut tcp, &mut recorded)
            .await
            .unwrap();
        let len = u16::from_be_bytes([recorded[5], recorded[6]]) as usize;
        let mut message = vec![0u8; len];
        tokio::io::AsyncReadExt::read_exact(&mut tcp, &mut message)
            .await
            .unwrap();
        recorded.extend_from_slice(&message);
        opener.abort();
        recorded
    })
}

#[test]
fn a_replayed_handshake_holds_nothing_past_its_deadline_and_an_honest_node_still_joins() {
    let ip = loopback(80);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let recorded = recorded_first_message();
    let mut replays = Vec::new();
    let mut refused_at_once = 0;
    for i in 0..256 {
        let Ok(mut s) = connect_from(attacker(1 + (i % 4) as u8), seed) else {
            refused_at_once += 1;
            continue;
        };
        if s.write_all(&recorded).is_ok() {
            replays.push((Instant::now(), s));
        }
    }
    let started = Instant::now();
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    let joined = started.elapsed();
    println!("honest node joined {joined:?} into the replay");
    assert!(joined < Duration::from_secs(10), "{joined:?}");
    let held = replays
        .iter_mut()
        .map(|(at, s)| closed_by_peer(s, *at + HELD_AT_MOST))
        .filter(|closed| !closed)
        .count();
    println!(
        "{} replays connected, {refused_at_once} refused at once, {held} still open after {:?}",
        replays.len(),
        started.elapsed()
    );
    assert_eq!(held, 0, "replayed handshakes still held");
    wait_for("both members", Duration::from_secs(5), || {
        names(&a) == ["a", "b"] && names(&b) == ["a", "b"]
    });
}

#[test]
fn idle_connections_do_not_keep_an_honest_node_out() {
    let ip = loopback(81);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let flood = std::thread::spawn(move || {
        let mut open = Vec::new();
        for _ in 0..2000 {
            if let Ok(s) = connect_from(attacker(5), seed) {
                open.push((Instant::now(), s));
            }
        }
        open
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    let joined = started.elapsed();
    let mut idle = flood.join().unwrap();
    println!(
        "honest node joined {joined:?} into a flood of {} idle connections",
        idle.len()
    );
    assert!(joined < Duration::from_secs(10), "{joined:?}");
    let held = idle
        .iter_mut()
        .map(|(at, s)| closed_by_peer(s, *at + HELD_AT_MOST))
        .filter(|closed| !closed)
        .count();
    assert_eq!(held, 0, "idle connections still held");
    assert_eq!(names(&a), ["a", "b"]);
    drop(b);
}

/// Forwards what the client sends to `to` until `limit` bytes have passed, then holds the
/// connection to `to` without sending more; reports when `to` closed it.
fn stalling_proxy(
    rt: &tokio::runtime::Runtime,
    from: IpAddr,
    to: SocketAddr,
    limit: usize,
    forwarded: Arc<AtomicUsize>,
) -> (SocketAddr, tokio::sync::oneshot::Receiver<Instant>) {
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind((from, 0)))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, _) = listener.accept().await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        let node = socket.connect(to).await.unwrap();
        let (mut client_in, mut client_out) = client.into_split();
        let (mut node_in, mut node_out) = node.into_split();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut passed = 0;
            while passed < limit {
                let n = match client_in
                    .read(&mut buf[..(limit - passed).min(64 * 1024)])
                    .await
                {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if node_out.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                passed += n;
                forwarded.fetch_add(n, Ordering::SeqCst);
            }
            // Hold the node's side open, sending nothing more.
            std::future::pending::<()>().await;
            drop(node_out);
        });
        let mut buf = vec![0u8; 4096];
        loop {
            match node_in.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = client_out.write_all(&buf[..n]).await;
                }
            }
        }
        let _ = closed_tx.send(Instant::now());
    });
    (addr, closed_rx)
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn half_sent_frames_are_dropped_and_hold_at_most_the_receive_budget() {
    let ip = loopback(82);
    let seed = free_addr(ip);
    let _a = Node::start(config("a", seed, &[seed])).unwrap();
    let rt = runtime();
    let before = rss_bytes();
    let streams = 24;
    let half = 8_000_000;
    let mut closed = Vec::new();
    let mut peak_held = 0;
    let mut peak_rss = before;
    for _ in 0..streams {
        let forwarded = Arc::new(AtomicUsize::new(0));
        let (proxy, closed_at) =
            stalling_proxy(&rt, attacker(6), seed, half, Arc::clone(&forwarded));
        // A key holder proves its stream with a Hello (taken from anyone), then declares a
        // frame of 16 MiB and sends half of it.
        let sender = rt.spawn(async move {
            let mut stream = SecureStream::connect(proxy, &keys_as("insider"))
                .await
                .unwrap();
            let hello = hello("insider", proxy, openmrs_cluster::clocks::now_millis());
            stream.send(&wire::encode(&hello).unwrap()).await.unwrap();
            stream.recv().await.unwrap();
            let (_reader, mut writer) = stream.split();
            let _ = writer.send(&vec![7u8; wire::MAX_FRAME_LEN]).await;
        });
        let until = Instant::now() + Duration::from_secs(10);
        while forwarded.load(Ordering::SeqCst) < half && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        sender.abort();
        peak_held = peak_held.max(transport::receive_budget_held());
        peak_rss = peak_rss.max(rss_bytes());
        closed.push((Instant::now(), closed_at));
    }
    assert!(peak_held <= transport::RECEIVE_BUDGET);
    for (stalled_at, closed_at) in closed {
        let at = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), closed_at).await })
            .expect("the node closes a stalled stream")
            .unwrap();
        // A chunk must follow within 5 s; the idle deadline between frames would take 60 s.
        assert!(
            at.saturating_duration_since(stalled_at) < Duration::from_secs(8),
            "held {:?} after it stalled",
            at.saturating_duration_since(stalled_at)
        );
    }
    wait_for("the budget given back", Duration::from_secs(5), || {
        transport::receive_budget_held() == 0
    });
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_bytes();
    println!(
        "rss before {} MB, with {streams} half frames at most {} MB (budget held at most {} MB), after {} MB",
        before >> 20,
        peak_rss >> 20,
        peak_held >> 20,
        after >> 20
    );
    // The budget, and slack for the sending side in this same process.
    assert!(
        peak_rss < before + transport::RECEIVE_BUDGET + 64 * 1024 * 1024,
        "{} MB",
        peak_rss >> 20
    );
    assert!(
        after < before + 64 * 1024 * 1024,
        "memory not given back: {} MB before, {} MB after",
        before >> 20,
        after >> 20
    );
}

#[test]
fn frames_from_a_node_that_is_not_a_member_are_dropped() {
    let ip = loopback(83);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let subscription = a.events_subscribe("t", 100).unwrap();
    let rt = runtime();
    let batch = Frame::new(Body::Events(EventBatch {
        publisher: 42,
        origin: "ghost".into(),
        events: vec![openmrs_cluster::events::Event {
            seq: 1,
            topic: "t".into(),
            payload: bytes::Bytes::from_static(b"from a stranger"),
        }],
        ack: true,
        interest: 0,
    }));
    let answer = rt.block_on(async {
        let mut stream = SecureStream::connect(seed, &keys_as("ghost"))
            .await
            .unwrap();
        stream.send(&wire::encode(&batch).unwrap()).await.unwrap();
        stream.recv().await
    });
    assert!(
        answer.is_err(),
        "the node answered a non-member: {answer:?}"
    );
    let delivered = a
        .events_poll(subscription, Duration::from_millis(500), 10)
        .unwrap()
        .unwrap_or_default();
    assert!(delivered.is_empty(), "a non-member's event was delivered");
}

/// Answers every connection as a stranger would: a refusal in plain text, with control
/// characters meant to forge log lines.
fn stranger(ip: IpAddr) -> SocketAddr {
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                // Takes the handshake as a node would, answers, and keeps the line open.
                let mut first = [0u8; 512];
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.read(&mut first);
                let text = b"no\nERROR forged line\x1b[31m";
                let mut out = vec![1u8];
                out.extend_from_slice(&(text.len() as u16).to_be_bytes());
                out.extend_from_slice(text);
                let _ = s.write_all(&out);
                let _ = s.read(&mut first);
            });
        }
    });
    addr
}

#[test]
fn a_stranger_on_one_seed_does_not_end_the_start_and_its_text_is_cleaned() {
    let ip = loopback(84);
    let seed = free_addr(ip);
    let liar = stranger(attacker(7));
    // b asks while the only honest seed is not up yet: the stranger's refusal must not end it.
    let b_addr = free_addr(ip);
    let b = std::thread::spawn(move || Node::start(config("b", b_addr, &[liar, seed])));
    std::thread::sleep(Duration::from_secs(1));
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let b = b.join().unwrap().expect("b joins through the honest seed");
    wait_for("b joined", Duration::from_secs(5), || {
        names(&a) == ["a", "b"]
    });
    let mut alone = config("c", free_addr(ip), &[liar]);
    alone.join_timeout = Duration::from_secs(3);
    let err = Node::start(alone).err().expect("refused by every seed");
    let message = err.to_string();
    assert!(matches!(err, ClusterError::Refused(_)), "{message}");
    assert!(
        message.contains("forged line") && !message.chars().any(char::is_control),
        "{message:?}"
    );
    drop(b);
}

#[test]
fn a_joiner_whose_clock_is_far_off_is_refused_saying_so() {
    let ip = loopback(85);
    let seed = free_addr(ip);
    let _a = Node::start(config("a", seed, &[seed])).unwrap();
    let rt = runtime();
    let reply = rt.block_on(async {
        let hello = hello(
            "late",
            free_addr(ip),
            openmrs_cluster::clocks::now_millis() - 60_000,
        );
        let mut stream = SecureStream::connect(seed, &keys_as("late")).await.unwrap();
        stream.send(&wire::encode(&hello).unwrap()).await.unwrap();
        wire::decode_frame(&stream.recv().await.unwrap()).unwrap()
    });
    match reply.body {
        Body::Refused { reason } => assert!(reason.contains("clock"), "{reason}"),
        other => panic!("not refused: {}", other.kind()),
    }
}

#[test]
fn a_departed_nodes_replayed_datagrams_do_not_bring_it_back() {
    let ip = loopback(86);
    let nodes = start_cluster(ip, 3, 3);
    let ghost = &nodes[2];
    ghost.faults().record_datagrams();
    std::thread::sleep(Duration::from_secs(2));
    let recorded = ghost.faults().recorded_datagrams();
    assert!(!recorded.is_empty());
    ghost.close();
    wait_for("the ghost gone", Duration::from_secs(5), || {
        names(&nodes[0]) == ["n0", "n1"]
    });
    // Past foca's memory of departed members (30 s), as in the attack that revived ghosts.
    std::thread::sleep(Duration::from_secs(32));
    let eavesdropper = UdpSocket::bind((attacker(8), 0)).unwrap();
    let replayed_at = Instant::now();
    while replayed_at.elapsed() < Duration::from_secs(3) {
        for (to, datagram) in &recorded {
            let _ = eavesdropper.send_to(datagram, to);
        }
        std::thread::sleep(Duration::from_millis(200));
        for node in &nodes[..2] {
            assert_eq!(names(node), ["n0", "n1"], "the ghost came back");
        }
    }
}

#[test]
fn a_thousand_bad_handshakes_log_one_line_and_frames_are_never_logged_whole() {
    use openmrs_cluster::logging;
    logging::install(tracing::Level::INFO);
    let ip = loopback(87);
    let seed = free_addr(ip);
    let a = Node::start(config("a", seed, &[seed])).unwrap();
    let _b = Node::start(config("b", free_addr(ip), &[seed])).unwrap();
    wait_for("b known to a", Duration::from_secs(5), || {
        names(&a) == ["a", "b"]
    });
    let _ = logging::poll(Duration::from_millis(10));
    let mut garbled = b"OMCt".to_vec();
    garbled.push(PROTOCOL_VERSION);
    garbled.extend_from_slice(&48u16.to_be_bytes());
    garbled.extend_from_slice(&[0x5A; 48]);
    for _ in 0..1000 {
        if let Ok(mut s) = connect_from(attacker(9), seed) {
            let _ = s.write_all(&garbled);
            let _ = closed_by_peer(&mut s, Instant::now() + Duration::from_secs(1));
        }
    }
    // A member's name on a frame whose contents must not reach the log: an unexpected kind.
    let rt = runtime();
    let patient = "Mary Patient, born 1970-01-01";
    rt.block_on(async {
        let mut stream = SecureStream::connect(seed, &keys_as("b")).await.unwrap();
        let odd = Frame::new(Body::Refused {
            reason: patient.into(),
        });
        stream.send(&wire::encode(&odd).unwrap()).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.recv()).await;
    });
    std::thread::sleep(Duration::from_millis(300));
    let records = logging::poll(Duration::from_millis(10));
    let about_the_attacker: Vec<_> = records
        .iter()
        .filter(|r| r.message.contains("127.0.66.9"))
        .collect();
    println!(
        "log lines about 1000 bad handshakes: {} (first: {:?})",
        about_the_attacker.len(),
        about_the_attacker.first()
    );
    assert!(
        (1..=2).contains(&about_the_attacker.len()),
        "{} lines",
        about_the_attacker.len()
    );
    assert!(
        records.iter().all(|r| !r.message.contains("Mary Patient")),
        "a frame's contents reached the log"
    );
    assert!(
        records.iter().any(|r| r.message.contains("Refused")),
        "the unexpected frame is logged by its kind"
    );
}

#[test]
fn a_node_without_a_secret_talks_to_no_one() {
    let ip = loopback(88);
    let addr = free_addr(ip);
    let mut private = config("embedded", addr, &[]);
    private.secret = None;
    let _node = Node::start(private).unwrap();
    let rt = runtime();
    // Another process without the secret, as a local user of the server would try it.
    let stranger = ClusterKeys::derive(None, "test-cluster", "unversioned", PROTOCOL_VERSION)
        .introducing("local-user");
    let answer = rt.block_on(SecureStream::connect(addr, &stranger));
    assert!(
        matches!(answer, Err(transport::StreamError::RefusedByPeer(_))),
        "{:?}",
        answer.map(|_| "connected")
    );
}

#[test]
fn members_left_quiet_past_the_proving_deadline_have_no_connection_refused() {
    use openmrs_cluster::logging;
    logging::install(tracing::Level::DEBUG);
    let nodes = start_cluster(loopback(89), 3, 3);
    let _ = logging::poll(Duration::from_millis(10));
    // Nothing is published, cached or locked: only the streams members keep open to each other.
    std::thread::sleep(PROVE_WITHIN_AND_MORE);
    let records = logging::poll(Duration::from_millis(10));
    let closed: Vec<_> = records
        .iter()
        .filter(|r| {
            r.message.contains("within 5 s of connecting") || r.message.contains("stream closed")
        })
        .collect();
    assert!(
        closed.is_empty(),
        "{} of {} lines, the first: {:?}",
        closed.len(),
        records.len(),
        closed.first()
    );
    drop(nodes);
}

/// Past the listener's 5 s, with room for a busy machine.
const PROVE_WITHIN_AND_MORE: Duration = Duration::from_secs(8);
