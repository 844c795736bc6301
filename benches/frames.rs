//! The per-message costs of the transport: encoding and decoding a frame, sealing and opening
//! a datagram, a Noise handshake over loopback, and one frame through an encrypted stream.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use openmrs_cluster::crypto::{ClusterKeys, Secret};
use openmrs_cluster::membership::NodeIdentity;
use openmrs_cluster::transport::SecureStream;
use openmrs_cluster::wire::{self, Body, Frame, Hello, PROTOCOL_VERSION};

fn keys() -> ClusterKeys {
    let secret = Secret::new("a benchmark secret of some length");
    ClusterKeys::derive(Some(&secret), "bench", "unversioned", PROTOCOL_VERSION)
}

fn hello() -> Frame {
    Frame::new(Body::Hello(Hello {
        cluster_name: "openmrs".into(),
        node: NodeIdentity::new(
            "node-a".into(),
            "127.0.0.1:7000".parse().unwrap(),
            "2.7.0".into(),
            1,
        ),
        clock_ms: 1_700_000_000_000,
    }))
}

fn frames(c: &mut Criterion) {
    let frame = hello();
    let bytes = wire::encode(&frame).unwrap();
    c.bench_function("frame/encode_hello", |b| {
        b.iter(|| wire::encode(black_box(&frame)).unwrap())
    });
    c.bench_function("frame/decode_hello", |b| {
        b.iter(|| wire::decode_frame(black_box(&bytes)).unwrap())
    });
}

fn datagrams(c: &mut Criterion) {
    let keys = keys();
    let payload = vec![7u8; 1400];
    let sealed = keys.seal_datagram(PROTOCOL_VERSION, &payload);
    let mut group = c.benchmark_group("datagram");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("seal_1400B", |b| {
        b.iter(|| keys.seal_datagram(PROTOCOL_VERSION, black_box(&payload)))
    });
    group.bench_function("open_1400B", |b| {
        b.iter(|| keys.open_datagram(black_box(&sealed)).unwrap())
    });
    let mut forged = sealed.clone();
    forged[40] ^= 1;
    group.bench_function("refuse_forged_1400B", |b| {
        b.iter(|| keys.open_datagram(black_box(&forged)).unwrap_err())
    });
    group.finish();
}

fn streams(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys = keys();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server_keys = keys.clone();
    // Echoes every frame back on every accepted stream.
    runtime.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let keys = server_keys.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = SecureStream::accept(tcp, &keys).await else {
                    return;
                };
                while let Ok(frame) = stream.recv().await {
                    if stream.send(&frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    c.bench_function("stream/noise_handshake_loopback", |b| {
        b.iter(|| {
            runtime
                .block_on(SecureStream::connect(addr, &keys))
                .unwrap()
        })
    });
    let mut stream = runtime
        .block_on(SecureStream::connect(addr, &keys))
        .unwrap();
    let frame = vec![3u8; 4096];
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("echo_4KiB_loopback", |b| {
        b.iter(|| {
            runtime.block_on(async {
                stream.send(&frame).await.unwrap();
                stream.recv().await.unwrap()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, frames, datagrams, streams);
criterion_main!(benches);
