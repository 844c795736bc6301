//! A peer's stream of steady traffic (events), read by a thread of its own that blocks on the
//! socket and answers each frame as it arrives (`FrameHandler::answer_now`).
//!
//! On the runtime, a frame costs an `epoll` wake-up of the worker, a poll of the stream's task
//! and the worker's timer bookkeeping before the frame is even read; a thread blocked in `read`
//! is woken once, with the bytes. The JMH round trip across three JVMs measured the difference
//! (docs/benchmarks.md, "Session 6"). The cost is a thread per peer that streams to this node;
//! each holds one of the listener's connection slots, which bound them.

use std::net::Shutdown;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::listener::{admitted, encode_reply, Answer, FrameHandler, Peer, IDLE_TIMEOUT};
use super::stream::BlockingStream;
use super::{SecureStream, StreamError};

/// Short enough to show whole in `top` and `perf` (Linux keeps 15 bytes of a thread's name).
const THREAD_NAME: &str = "openmrs-stream";

/// Moves `stream` to a new thread and returns when that thread ends. Dropping the returned
/// future (the runtime shutting down) shuts the socket down, which ends the thread.
pub async fn serve(
    stream: SecureStream,
    handler: Arc<dyn FrameHandler>,
    peer: Peer,
) -> Result<(), StreamError> {
    let stream = stream.into_blocking()?;
    let _closer = Closer(stream.socket()?);
    let (ended, end) = oneshot::channel();
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            // The receiver is gone only when the socket was shut down: nobody to tell.
            let _ = ended.send(read_frames(stream, handler.as_ref(), &peer));
        })
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot start a thread to read a stream; it is closed");
            StreamError::Io(e)
        })?;
    match end.await {
        Ok(result) => result,
        // The panic hook has said why; the stream went with the thread.
        Err(_) => Err(StreamError::Io(std::io::Error::other(
            "the stream's thread panicked",
        ))),
    }
}

fn read_frames(
    mut stream: BlockingStream,
    handler: &dyn FrameHandler,
    peer: &Peer,
) -> Result<(), StreamError> {
    loop {
        let bytes = match stream.recv(IDLE_TIMEOUT) {
            Ok(bytes) => bytes,
            Err(StreamError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        let frame = admitted(handler, peer, &bytes)?;
        match handler.answer_now(peer, frame) {
            Answer::Now(Some(reply)) => stream.send(&encode_reply(&reply)?)?,
            Answer::Now(None) => {}
            Answer::Later(_) => {
                return Err(StreamError::Garbled(
                    "a frame that does not belong on a stream of steady traffic",
                ))
            }
        }
    }
}

/// Shuts the socket down when dropped, so that the thread blocked on it wakes and ends.
struct Closer(std::net::TcpStream);

impl Drop for Closer {
    fn drop(&mut self) {
        // Already closed by the peer or the thread: nothing left to end.
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::transport::test_keys as keys;
    use crate::transport::{serve as listen, Reply, StreamReader, StreamWriter};
    use crate::wire::{self, Body, Frame};

    /// Answers a frame whose text starts with "now" at once, naming the thread that answered;
    /// any other later, on the runtime.
    struct Answers;

    impl FrameHandler for Answers {
        fn admits(&self, _peer: &Peer, _frame: &Frame) -> bool {
            true
        }

        fn handle(&self, _peer: Peer, _frame: Frame) -> Reply<'_> {
            Box::pin(async { Some(text("later")) })
        }

        fn answer_now(&self, _peer: &Peer, frame: Frame) -> Answer {
            match frame.body {
                Body::Refused { reason } if reason.starts_with("now") => {
                    let thread = std::thread::current();
                    Answer::Now(Some(text(&format!(
                        "{reason} on {}",
                        thread.name().unwrap_or("?")
                    ))))
                }
                body => Answer::Later(Frame { body, ..frame }),
            }
        }
    }

    fn text(text: &str) -> Frame {
        Frame::new(Body::Refused {
            reason: text.to_string(),
        })
    }

    async fn listening() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(listen(listener, keys(), Arc::new(Answers)));
        addr
    }

    async fn connect(addr: SocketAddr) -> (StreamReader, StreamWriter) {
        SecureStream::connect(addr, &keys()).await.unwrap().split()
    }

    async fn ask(writer: &mut StreamWriter, reader: &mut StreamReader, question: &str) -> String {
        writer
            .send(&wire::encode(&text(question)).unwrap())
            .await
            .unwrap();
        answer(reader).await
    }

    async fn answer(reader: &mut StreamReader) -> String {
        match wire::decode_frame(&reader.recv().await.unwrap())
            .unwrap()
            .body
        {
            Body::Refused { reason } => reason,
            other => panic!("not an answer: {other:?}"),
        }
    }

    /// The frames sent back to back before the first answer partly wait in the runtime's read
    /// buffer at the hand-over: the thread must read them first, and in order.
    #[tokio::test]
    async fn a_stream_answered_at_once_moves_to_a_thread_and_closes_on_any_other_frame() {
        let addr = listening().await;
        let (mut reader, mut writer) = connect(addr).await;
        assert_eq!(ask(&mut writer, &mut reader, "first").await, "later");
        for i in 0..20 {
            writer
                .try_send(&wire::encode(&text(&format!("now {i}"))).unwrap())
                .unwrap();
        }
        writer.flush().await.unwrap();
        let first = answer(&mut reader).await;
        assert!(
            first.starts_with("now 0 on ") && !first.ends_with(THREAD_NAME),
            "{first}"
        );
        for i in 1..20 {
            assert_eq!(
                answer(&mut reader).await,
                format!("now {i} on {THREAD_NAME}")
            );
        }
        writer
            .send(&wire::encode(&text("later, please")).unwrap())
            .await
            .unwrap();
        assert!(reader.recv().await.is_err(), "the stream is closed");

        let (mut reader, mut writer) = connect(addr).await;
        assert_eq!(ask(&mut writer, &mut reader, "and another").await, "later");
        assert_eq!(ask(&mut writer, &mut reader, "then more").await, "later");
    }

    /// Without the shutdown, the thread would go on holding the connection open, blocked in a
    /// read, after its node stopped.
    #[test]
    fn a_runtime_shutting_down_closes_its_streamed_connections() {
        let server = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let addr = server.block_on(listening());
        let (mut reader, mut writer) = client.block_on(connect(addr));
        client.block_on(async {
            for i in 0..2 {
                let said = ask(&mut writer, &mut reader, &format!("now {i}")).await;
                assert!(said.starts_with(&format!("now {i}")), "{said}");
            }
        });
        server.shutdown_timeout(Duration::from_secs(1));
        client.block_on(async {
            let end = tokio::time::timeout(Duration::from_secs(5), reader.recv())
                .await
                .expect("the server closes the stream");
            assert!(end.is_err(), "the stream ends");
        });
    }
}
