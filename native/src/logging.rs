//! Rust `tracing` records, queued for the Java side to collect. A Java daemon thread polls this
//! queue and hands each record to java.util.logging, so no Rust thread ever attaches to the JVM.
//! The queue is bounded: when Java falls behind, the oldest records go and the count of lost
//! records is reported in their place.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use once_cell::sync::{Lazy, OnceCell};
use parking_lot::{Condvar, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

const CAPACITY: usize = 10_000;
/// Records of other crates (openraft, foca, tokio) are kept from INFO down only when TRACE is
/// asked for: openraft logs whole Raft states at INFO, foca every packet at DEBUG.
const OWN_TARGET: &str = "openmrs_cluster";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub level: Level,
    pub target: String,
    pub message: String,
}

struct Queue {
    records: Mutex<VecDeque<LogRecord>>,
    ready: Condvar,
    lost: AtomicU64,
    /// 1 = ERROR ... 5 = TRACE, as `level_rank`.
    max_rank: AtomicU8,
}

static QUEUE: Lazy<Queue> = Lazy::new(|| Queue {
    records: Mutex::new(VecDeque::new()),
    ready: Condvar::new(),
    lost: AtomicU64::new(0),
    max_rank: AtomicU8::new(level_rank(Level::INFO)),
});
static INSTALLED: OnceCell<bool> = OnceCell::new();

const fn level_rank(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

pub fn parse_level(name: &str) -> Option<Level> {
    name.trim().parse().ok()
}

/// Routes this library's tracing output to the queue, from `level` up. Installs the subscriber
/// once per loaded library; a later call only changes the level. Returns false when another
/// global subscriber was installed first (a Rust host application), which then keeps the logs.
pub fn install(level: Level) -> bool {
    QUEUE.max_rank.store(level_rank(level), Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    *INSTALLED.get_or_init(|| {
        tracing_subscriber::registry()
            .with(QueueLayer)
            .try_init()
            .is_ok()
    })
}

/// Waits up to `timeout` for records and takes all that are queued.
pub fn poll(timeout: Duration) -> Vec<LogRecord> {
    let mut records = QUEUE.records.lock();
    if records.is_empty() {
        QUEUE.ready.wait_for(&mut records, timeout);
    }
    let mut taken: Vec<LogRecord> = records.drain(..).collect();
    drop(records);
    let lost = QUEUE.lost.swap(0, Ordering::Relaxed);
    if lost > 0 {
        taken.push(LogRecord {
            level: Level::WARN,
            target: OWN_TARGET.to_string(),
            message: format!(
                "{lost} log records were dropped: the Java side did not collect them in time"
            ),
        });
    }
    taken
}

/// Lets a repeated warning through at most once per interval, counting the ones held back, so
/// that a peer that keeps sending the same bad input cannot flood the log.
pub struct Throttle {
    every: Duration,
    state: Mutex<(Option<std::time::Instant>, u64)>,
}

impl Throttle {
    pub const fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            state: parking_lot::const_mutex((None, 0)),
        }
    }

    /// `Some(n)`: log now, for this occurrence and the `n - 1` held back since the last one.
    pub fn allow(&self) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut state = self.state.lock();
        state.1 += 1;
        if state
            .0
            .is_some_and(|last| now.duration_since(last) < self.every)
        {
            return None;
        }
        state.0 = Some(now);
        Some(std::mem::take(&mut state.1))
    }
}

fn enabled(metadata: &Metadata<'_>) -> bool {
    let max = QUEUE.max_rank.load(Ordering::Relaxed);
    let rank = level_rank(*metadata.level());
    let own = metadata.target().starts_with(OWN_TARGET);
    rank <= max && (own || rank <= level_rank(Level::WARN) || max == level_rank(Level::TRACE))
}

struct QueueLayer;

impl<S: Subscriber> Layer<S> for QueueLayer {
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        enabled(metadata)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut message = MessageVisitor::default();
        event.record(&mut message);
        let record = LogRecord {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            message: message.finish(),
        };
        let mut records = QUEUE.records.lock();
        if records.len() >= CAPACITY {
            records.pop_front();
            QUEUE.lost.fetch_add(1, Ordering::Relaxed);
        }
        records.push_back(record);
        drop(records);
        QUEUE.ready.notify_one();
    }
}

/// Renders an event as its message followed by its fields, `key=value`.
#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl MessageVisitor {
    fn finish(self) -> String {
        if self.fields.is_empty() {
            self.message
        } else {
            format!("{} ({})", self.message, self.fields.trim_start())
        }
    }
}

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_lets_one_through_per_interval_and_counts_the_rest() {
        let throttle = Throttle::new(Duration::from_millis(200));
        assert_eq!(throttle.allow(), Some(1));
        assert_eq!(throttle.allow(), None);
        assert_eq!(throttle.allow(), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(throttle.allow(), Some(3));
    }

    #[test]
    fn records_reach_the_queue_with_their_fields() {
        assert!(install(Level::DEBUG));
        tracing::info!(node = "a", "hello");
        tracing::trace!("not wanted");
        let records = poll(Duration::from_millis(100));
        let hello = records
            .iter()
            .find(|r| r.message.starts_with("hello"))
            .expect("the info record is queued");
        assert_eq!(hello.message, "hello (node=a)");
        assert_eq!(hello.level, Level::INFO);
        assert!(records.iter().all(|r| r.message != "not wanted"));
    }
}
