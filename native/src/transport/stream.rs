//! An encrypted, authenticated TCP stream: a Noise `NNpsk0` handshake keyed by the cluster
//! secret, then length-prefixed Noise transport messages.
//!
//! Before the handshake each side writes a five-byte preamble (magic and wire protocol), bound
//! into the handshake as its prologue, so a tampered preamble fails authentication. The
//! initiator's first handshake message carries its node name (sealed with the pre-shared key),
//! so the responder knows which member a stream claims to come from. A responder that refuses
//! (another protocol, a failed handshake) answers with a plaintext reason before it closes: the
//! reason is unauthenticated and only ever shown to a person, never acted upon.
//!
//! A frame's buffer grows with the chunks that arrive, counted against the process's receive
//! budget (`budget`), and once a frame has begun each chunk must follow within `CHUNK_TIMEOUT`:
//! a peer that declares a big frame and stalls holds neither memory nor the stream for long.
//!
//! A stream that carries a peer's steady traffic can leave the runtime for a thread of its own
//! (`into_blocking`): a thread blocked in `read` is woken once per frame, where a runtime task
//! is woken by `epoll` and then polled (docs/architecture.md, "Receiving").

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use super::budget::{self, Held, RECEIVE_BUDGET};
use crate::crypto::ClusterKeys;
use crate::wire::{self, MAX_FRAME_LEN, PROTOCOL_VERSION};

const NOISE_PARAMS: &str = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s";
const STREAM_MAGIC: [u8; 4] = *b"OMCt";
/// The Noise spec bounds one message; a frame longer than this travels as several.
pub(crate) const NOISE_MAX_MESSAGE: usize = 65535;
const NOISE_TAG: usize = 16;
pub(crate) const CHUNK_PLAINTEXT: usize = NOISE_MAX_MESSAGE - NOISE_TAG;
/// A handshake message: an ephemeral key, a tag and at most a node name.
const HANDSHAKE_MAX: usize = 512;
/// The longest node name an initiator may introduce itself with (config.rs allows 200 bytes).
const INTRODUCTION_MAX: usize = 200;
/// A writer keeps its backlog's memory for the next frames up to this size, not after a big one.
const BACKLOG_KEPT: usize = 256 * 1024;
const STATUS_OK: u8 = 0;
const STATUS_REFUSED: u8 = 1;

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Once a frame has begun, the longest wait for each of its next chunks (at most 64 KiB): a
/// slow LAN moves one in milliseconds.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(5);
/// Big buffers dropped unfinished give their memory back to the system (`budget::give_back`).
const GIVE_BACK_OVER: usize = 1024 * 1024;
/// TCP keepalive: a peer that vanished without closing (a pulled cable, a dead host) is noticed
/// in about 30 + 3 x 10 s, where a blocked read would otherwise wait forever.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_PROBES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("connection lost: {0}")]
    Io(#[from] std::io::Error),
    /// A handshake, or a call awaiting its answer, took too long.
    #[error("timed out")]
    Timeout,
    /// No frame came on an open stream for as long as the stream may stay idle.
    #[error("no frame for a while: closed as idle")]
    Idle,
    /// A new connection sent no frame this node takes within `listener::PROVE_WITHIN`.
    #[error("no frame this node takes within 5 s of connecting")]
    Unproven,
    #[error("not an openmrs-cluster peer (wrong magic)")]
    NotOurs,
    /// The other side refused us and said why (a human-readable, unauthenticated reason).
    #[error("refused by the peer: {0}")]
    RefusedByPeer(String),
    /// This side refused the other; the reason was also sent to it.
    #[error("{0}")]
    Refused(String),
    #[error("frame failed authentication")]
    Unauthenticated,
    #[error("frame of {0} bytes is over the limit of {MAX_FRAME_LEN}")]
    TooLong(usize),
    #[error("garbled frame: {0}")]
    Garbled(&'static str),
    #[error("the peer stopped sending in the middle of a frame")]
    Stalled,
    #[error("a frame from '{0}', which is not a member")]
    NotAMember(String),
    #[error("frames being received would pass the process's budget of {RECEIVE_BUDGET} bytes")]
    OverBudget,
}

/// Both directions of an encrypted stream. Each direction keeps its own Noise nonce, so the
/// two halves can go to different owners (`split`).
pub struct SecureStream {
    reader: StreamReader,
    writer: StreamWriter,
    peer: SocketAddr,
    /// The node name the initiator gave in the handshake; empty on the initiator's side.
    peer_name: Arc<str>,
}

/// The receiving half.
pub struct StreamReader {
    /// Buffered so that a chunk's length and body usually arrive in one read.
    tcp: BufReader<OwnedReadHalf>,
    cipher: Cipher,
    scratch: Vec<u8>,
}

/// The sending half. Frames are encrypted into a backlog in nonce order and the backlog is
/// written as the socket takes it, so a caller that must not wait (`try_send`) and one that may
/// (`send`, `flush`) can share the half and keep the stream whole.
pub struct StreamWriter {
    tcp: OwnedWriteHalf,
    cipher: Cipher,
    backlog: Vec<u8>,
    /// How much of the backlog is written: kept as an offset, since draining the front of a
    /// frame of megabytes after each partial write would copy it over and over.
    written: usize,
    /// A write failed: the stream is cut somewhere inside a frame and must not be used again.
    broken: bool,
}

/// A whole stream read and written by one thread that blocks on its socket.
pub struct BlockingStream {
    /// What the async reader had buffered comes first.
    tcp: std::io::BufReader<std::io::Chain<std::io::Cursor<Vec<u8>>, std::net::TcpStream>>,
    read: Cipher,
    write: Cipher,
    scratch: Vec<u8>,
}

/// One direction's Noise state: the transport keys and the next message's nonce.
struct Cipher {
    noise: Arc<snow::StatelessTransportState>,
    nonce: u64,
}

/// A frame as its chunks arrive: the first carries the frame's length.
pub(crate) struct Incoming {
    frame: Vec<u8>,
    declared: usize,
    held: Held,
}

fn handshake_state(keys: &ClusterKeys, initiator: bool) -> snow::HandshakeState {
    let params = NOISE_PARAMS
        .parse()
        .expect("the Noise parameter string is a valid constant");
    let prologue = preamble();
    let builder = snow::Builder::new(params)
        .prologue(&prologue)
        .psk(0, &keys.noise_psk);
    let built = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    };
    built.expect("a Noise NN pattern with a 32-byte psk always builds")
}

fn preamble() -> [u8; 5] {
    let mut p = [0u8; 5];
    p[..4].copy_from_slice(&STREAM_MAGIC);
    p[4] = PROTOCOL_VERSION;
    p
}

async fn write_block(tcp: &mut (impl AsyncWrite + Unpin), bytes: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(bytes.len()).expect("blocks are bounded by the Noise message size");
    let mut out = Vec::with_capacity(2 + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    tcp.write_all(&out).await
}

pub(crate) async fn read_block(
    tcp: &mut (impl AsyncRead + Unpin),
    max: usize,
    buf: &mut Vec<u8>,
) -> Result<(), StreamError> {
    let len = usize::from(tcp.read_u16().await?);
    if len > max {
        return Err(StreamError::Garbled("block longer than allowed"));
    }
    buf.resize(len, 0);
    tcp.read_exact(buf).await?;
    Ok(())
}

async fn refuse(tcp: &mut TcpStream, reason: String) -> StreamError {
    let mut out = vec![STATUS_REFUSED];
    let text = &reason.as_bytes()[..reason.len().min(1024)];
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text);
    // The peer may already be gone; the refusal is logged on this side either way.
    let _ = tcp.write_all(&out).await;
    StreamError::Refused(reason)
}

impl SecureStream {
    pub async fn connect(
        addr: SocketAddr,
        keys: &ClusterKeys,
    ) -> Result<SecureStream, StreamError> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::connect_inner(addr, keys))
            .await
            .map_err(|_| StreamError::Timeout)?
    }

    async fn connect_inner(
        addr: SocketAddr,
        keys: &ClusterKeys,
    ) -> Result<SecureStream, StreamError> {
        let mut tcp = TcpStream::connect(addr)
            .await
            .map_err(StreamError::Connect)?;
        tcp.set_nodelay(true)?;
        keep_alive(&tcp)?;
        let mut hs = handshake_state(keys, true);
        let mut msg = vec![0u8; HANDSHAKE_MAX];
        let n = hs
            .write_message(keys.introduction().as_bytes(), &mut msg)
            .map_err(|_| StreamError::Garbled("cannot write the first handshake message"))?;
        tcp.write_all(&preamble()).await?;
        write_block(&mut tcp, &msg[..n]).await?;
        let status = tcp.read_u8().await?;
        let mut reply = Vec::new();
        read_block(&mut tcp, 1024.max(HANDSHAKE_MAX), &mut reply).await?;
        match status {
            STATUS_OK => {}
            STATUS_REFUSED => {
                return Err(StreamError::RefusedByPeer(wire::peer_text(
                    &String::from_utf8_lossy(&reply),
                )))
            }
            _ => return Err(StreamError::Garbled("unknown handshake status")),
        }
        let mut payload = [0u8; HANDSHAKE_MAX];
        hs.read_message(&reply, &mut payload)
            .map_err(|_| StreamError::Unauthenticated)?;
        SecureStream::established(tcp, hs, addr, Arc::from(""))
    }

    pub async fn accept(tcp: TcpStream, keys: &ClusterKeys) -> Result<SecureStream, StreamError> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::accept_inner(tcp, keys))
            .await
            .map_err(|_| StreamError::Timeout)?
    }

    async fn accept_inner(
        mut tcp: TcpStream,
        keys: &ClusterKeys,
    ) -> Result<SecureStream, StreamError> {
        tcp.set_nodelay(true)?;
        keep_alive(&tcp)?;
        let peer = tcp.peer_addr()?;
        let mut theirs = [0u8; 5];
        tcp.read_exact(&mut theirs).await?;
        if theirs[..4] != STREAM_MAGIC {
            return Err(StreamError::NotOurs);
        }
        if theirs[4] != PROTOCOL_VERSION {
            let reason = format!(
                "wire protocol {} is not this node's {PROTOCOL_VERSION}: run the same openmrs-cluster version on every node",
                theirs[4]
            );
            return Err(refuse(&mut tcp, reason).await);
        }
        let mut msg = Vec::new();
        read_block(&mut tcp, HANDSHAKE_MAX, &mut msg).await?;
        let mut hs = handshake_state(keys, false);
        let mut payload = [0u8; HANDSHAKE_MAX];
        let Ok(introduced) = hs.read_message(&msg, &mut payload) else {
            let reason = "handshake failed: the cluster secret or cluster name differs".to_string();
            return Err(refuse(&mut tcp, reason).await);
        };
        let peer_name = introduction(&payload[..introduced])?;
        let mut reply = vec![0u8; HANDSHAKE_MAX];
        let n = hs
            .write_message(&[], &mut reply)
            .map_err(|_| StreamError::Garbled("cannot write the second handshake message"))?;
        tcp.write_u8(STATUS_OK).await?;
        write_block(&mut tcp, &reply[..n]).await?;
        SecureStream::established(tcp, hs, peer, peer_name)
    }

    fn established(
        tcp: TcpStream,
        handshake: snow::HandshakeState,
        peer: SocketAddr,
        peer_name: Arc<str>,
    ) -> Result<SecureStream, StreamError> {
        let noise = Arc::new(
            handshake
                .into_stateless_transport_mode()
                .map_err(|_| StreamError::Garbled("handshake did not complete"))?,
        );
        let (read, write) = tcp.into_split();
        Ok(SecureStream {
            reader: StreamReader {
                tcp: BufReader::new(read),
                cipher: Cipher::new(Arc::clone(&noise)),
                scratch: Vec::new(),
            },
            writer: StreamWriter {
                tcp: write,
                cipher: Cipher::new(noise),
                backlog: Vec::new(),
                written: 0,
                broken: false,
            },
            peer,
            peer_name,
        })
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The node name the initiator introduced itself with (responder's side only).
    pub fn peer_name(&self) -> &Arc<str> {
        &self.peer_name
    }

    pub async fn send(&mut self, frame: &[u8]) -> Result<(), StreamError> {
        self.writer.send(frame).await
    }

    pub async fn recv(&mut self) -> Result<Vec<u8>, StreamError> {
        self.reader.recv().await
    }

    /// The two directions apart, for a sender that does not wait for each answer.
    pub fn split(self) -> (StreamReader, StreamWriter) {
        (self.reader, self.writer)
    }

    /// The same stream for a thread of its own, which blocks on the socket. Must be called
    /// between frames: with nothing left to write, and after a whole frame was read.
    pub fn into_blocking(self) -> Result<BlockingStream, StreamError> {
        let SecureStream { reader, writer, .. } = self;
        if writer.broken || writer.written < writer.backlog.len() {
            return Err(StreamError::Garbled("a frame is still being written"));
        }
        let buffered = reader.tcp.buffer().to_vec();
        let tcp = reader
            .tcp
            .into_inner()
            .reunite(writer.tcp)
            .map_err(|_| StreamError::Garbled("halves of two different streams"))?
            .into_std()?;
        tcp.set_nonblocking(false)?;
        Ok(BlockingStream {
            tcp: std::io::BufReader::new(std::io::Read::chain(std::io::Cursor::new(buffered), tcp)),
            read: reader.cipher,
            write: writer.cipher,
            scratch: reader.scratch,
        })
    }
}

impl BlockingStream {
    /// Another handle on the socket, to shut it down from elsewhere and so end a blocked read.
    pub fn socket(&self) -> std::io::Result<std::net::TcpStream> {
        self.tcp.get_ref().get_ref().1.try_clone()
    }

    /// As `StreamReader::recv`, blocking; a frame that does not begin within `idle` ends the
    /// stream with `StreamError::Idle`.
    pub fn recv(&mut self, idle: Duration) -> Result<Vec<u8>, StreamError> {
        let mut frame = Incoming::start(self.recv_chunk(idle, StreamError::Idle)?)?;
        while !frame.is_whole() {
            let chunk = self.recv_chunk(CHUNK_TIMEOUT, StreamError::Stalled)?;
            frame.add(&chunk)?;
        }
        frame.finish()
    }

    /// The next chunk, or `late` if it does not come within `within`.
    fn recv_chunk(&mut self, within: Duration, late: StreamError) -> Result<Vec<u8>, StreamError> {
        use std::io::Read;
        self.tcp
            .get_ref()
            .get_ref()
            .1
            .set_read_timeout(Some(within))?;
        let mut len = [0u8; 2];
        let read = self.tcp.read_exact(&mut len).and_then(|()| {
            self.scratch.resize(usize::from(u16::from_be_bytes(len)), 0);
            self.tcp.read_exact(&mut self.scratch)
        });
        match read {
            Ok(()) => self.read.open(&self.scratch),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(late)
            }
            Err(e) => Err(StreamError::Io(e)),
        }
    }

    /// As `StreamWriter::send`, blocking.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), StreamError> {
        let mut out = Vec::new();
        self.write.seal(frame, &mut out)?;
        std::io::Write::write_all(self.tcp.get_mut().get_mut().1, &out)?;
        Ok(())
    }
}

impl Cipher {
    fn new(noise: Arc<snow::StatelessTransportState>) -> Cipher {
        Cipher { noise, nonce: 0 }
    }

    /// Appends `frame` to `out` as Noise messages, each after its length: the frame's own
    /// length first (inside the first message, so it is authenticated), then its bytes.
    fn seal(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<(), StreamError> {
        if frame.len() > MAX_FRAME_LEN {
            return Err(StreamError::TooLong(frame.len()));
        }
        let mut plain = Vec::with_capacity(4 + frame.len());
        plain.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        plain.extend_from_slice(frame);
        out.reserve(plain.len() + plain.len() / CHUNK_PLAINTEXT * 18 + 18);
        for chunk in plain.chunks(CHUNK_PLAINTEXT) {
            // Encrypted in place at the end of `out`: a scratch buffer of the largest Noise
            // message, zeroed for every frame, cost more than the encryption of a small one.
            let at = out.len();
            out.resize(at + 2 + chunk.len() + NOISE_TAG, 0);
            let n = self
                .noise
                .write_message(self.nonce, chunk, &mut out[at + 2..])
                .map_err(|_| StreamError::Garbled("cannot encrypt a chunk"))?;
            self.nonce += 1;
            out[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
            out.truncate(at + 2 + n);
        }
        Ok(())
    }

    /// Decrypts the next Noise message; one that fails authentication ends the stream.
    fn open(&mut self, message: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut plain = vec![0u8; message.len()];
        let n = self
            .noise
            .read_message(self.nonce, message, &mut plain)
            .map_err(|_| StreamError::Unauthenticated)?;
        self.nonce += 1;
        plain.truncate(n);
        Ok(plain)
    }
}

impl Incoming {
    pub(crate) fn start(first: Vec<u8>) -> Result<Incoming, StreamError> {
        if first.len() < 4 {
            return Err(StreamError::Garbled(
                "first chunk shorter than its length field",
            ));
        }
        let declared = u32::from_be_bytes([first[0], first[1], first[2], first[3]]) as usize;
        if declared > MAX_FRAME_LEN {
            return Err(StreamError::TooLong(declared));
        }
        let mut incoming = Incoming {
            frame: Vec::new(),
            declared,
            held: Held::default(),
        };
        incoming.add(&first[4..])?;
        Ok(incoming)
    }

    pub(crate) fn is_whole(&self) -> bool {
        self.frame.len() >= self.declared
    }

    /// Appends a chunk, growing the buffer by what arrived (never past the declared length,
    /// and no more than doubling it) and counting the growth against the receive budget.
    pub(crate) fn add(&mut self, chunk: &[u8]) -> Result<(), StreamError> {
        let needed = self.frame.len() + chunk.len();
        if needed > self.frame.capacity() {
            let target = needed
                .max(self.frame.capacity() * 2)
                .min(self.declared.max(needed));
            self.held.grow(target - self.frame.capacity())?;
            self.frame.reserve_exact(target - self.frame.len());
        }
        self.frame.extend_from_slice(chunk);
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Vec<u8>, StreamError> {
        if self.frame.len() != self.declared {
            return Err(StreamError::Garbled("frame longer than its length field"));
        }
        Ok(std::mem::take(&mut self.frame))
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Only a frame left unfinished still owns its buffer here.
        if self.frame.capacity() >= GIVE_BACK_OVER {
            self.frame = Vec::new();
            budget::give_back();
        }
    }
}

/// The node name in a first handshake message: UTF-8, at most `INTRODUCTION_MAX` bytes, no
/// control characters (it reaches logs).
fn introduction(payload: &[u8]) -> Result<Arc<str>, StreamError> {
    std::str::from_utf8(payload)
        .ok()
        .filter(|name| name.len() <= INTRODUCTION_MAX && !name.chars().any(char::is_control))
        .map(Arc::from)
        .ok_or(StreamError::Garbled(
            "the peer's introduction is not a node name",
        ))
}

/// Turns TCP keepalive on, so that a read on a stream whose peer vanished ends.
fn keep_alive(tcp: &TcpStream) -> std::io::Result<()> {
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_PROBES);
    socket2::SockRef::from(tcp).set_tcp_keepalive(&keepalive)
}

impl StreamWriter {
    /// Sends one frame: its length (inside the first encrypted chunk, so it is authenticated)
    /// and then its bytes, in as many Noise messages as needed.
    pub async fn send(&mut self, frame: &[u8]) -> Result<(), StreamError> {
        self.queue(frame)?;
        self.flush().await
    }

    /// Queues one frame and writes what the socket takes now, without waiting. Returns whether
    /// everything queued is written; if not, `flush` must follow before the peer sees the frame.
    pub fn try_send(&mut self, frame: &[u8]) -> Result<bool, StreamError> {
        self.queue(frame)?;
        self.write_now()
    }

    /// Writes the rest of what was queued, waiting for the socket as needed.
    pub async fn flush(&mut self) -> Result<(), StreamError> {
        while !self.write_now()? {
            self.tcp.writable().await?;
        }
        Ok(())
    }

    fn queue(&mut self, frame: &[u8]) -> Result<(), StreamError> {
        self.cipher.seal(frame, &mut self.backlog)
    }

    /// Writes from the backlog until it is empty (true) or the socket would block (false).
    fn write_now(&mut self) -> Result<bool, StreamError> {
        if self.broken {
            return Err(StreamError::Io(std::io::ErrorKind::BrokenPipe.into()));
        }
        while self.written < self.backlog.len() {
            match self.tcp.try_write(&self.backlog[self.written..]) {
                Ok(0) => {
                    self.broken = true;
                    return Err(StreamError::Io(std::io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    self.broken = true;
                    return Err(StreamError::Io(e));
                }
            }
        }
        self.written = 0;
        if self.backlog.capacity() > BACKLOG_KEPT {
            self.backlog = Vec::new();
        } else {
            self.backlog.clear();
        }
        Ok(true)
    }
}

impl StreamReader {
    /// Receives one frame; an unauthenticated chunk, a length over the limit or a chunk that
    /// does not follow within `CHUNK_TIMEOUT` ends the stream. Waits as long as it takes for a
    /// frame to begin: callers bound that. Not cancel-safe: a frame read halfway is lost with
    /// the future.
    pub async fn recv(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut frame = Incoming::start(self.recv_chunk().await?)?;
        while !frame.is_whole() {
            let chunk = tokio::time::timeout(CHUNK_TIMEOUT, self.recv_chunk())
                .await
                .map_err(|_| StreamError::Stalled)??;
            frame.add(&chunk)?;
        }
        frame.finish()
    }

    async fn recv_chunk(&mut self) -> Result<Vec<u8>, StreamError> {
        read_block(&mut self.tcp, NOISE_MAX_MESSAGE, &mut self.scratch).await?;
        self.cipher.open(&self.scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::test_keys as keys;

    #[test]
    fn a_frame_holds_what_has_arrived_and_ends_at_its_declared_size() {
        let mut first = (MAX_FRAME_LEN as u32).to_be_bytes().to_vec();
        first.extend_from_slice(&[7; 10]);
        let mut frame = Incoming::start(first).unwrap();
        assert!(
            frame.frame.capacity() < 1024,
            "room for the declared length"
        );
        let chunk = vec![1u8; CHUNK_PLAINTEXT];
        while !frame.is_whole() {
            let rest = MAX_FRAME_LEN - frame.frame.len();
            frame.add(&chunk[..rest.min(CHUNK_PLAINTEXT)]).unwrap();
        }
        assert_eq!(frame.frame.capacity(), MAX_FRAME_LEN);
        assert_eq!(frame.finish().unwrap().len(), MAX_FRAME_LEN);
    }

    /// Frames of several Noise messages, sent without waiting while the receiver is slow to
    /// read (so writes go partial and the backlog is flushed in pieces), arrive whole, in order.
    #[tokio::test]
    async fn frames_larger_than_the_socket_buffer_arrive_whole_and_in_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frames: Vec<Vec<u8>> = (0..4u8)
            .map(|i| {
                (0..3_000_000)
                    .map(|j| (j as u8).wrapping_mul(31) ^ i)
                    .collect()
            })
            .collect();
        let expected = frames.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = SecureStream::accept(tcp, &keys()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut got = Vec::new();
            for _ in 0..expected.len() {
                got.push(stream.recv().await.unwrap());
            }
            assert!(got == expected, "frames differ");
            stream.send(b"done").await.unwrap();
        });
        let (mut reader, mut writer) = SecureStream::connect(addr, &keys()).await.unwrap().split();
        let mut partial = 0;
        for frame in &frames {
            if !writer.try_send(frame).unwrap() {
                partial += 1;
                writer.flush().await.unwrap();
            }
        }
        assert!(
            partial > 0,
            "12 MB cannot all fit in the socket buffers of a receiver that waits"
        );
        assert_eq!(reader.recv().await.unwrap(), b"done");
        server.await.unwrap();
    }
}
