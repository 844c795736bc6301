//! The receiving side: de-duplication per publisher, and one bounded queue per subscription.
//!
//! A publisher's batches may arrive twice (a reply lost, a stream reopened) and, after a
//! reconnection, even on two streams at once: `deliver` runs under one lock that holds every
//! publisher's last delivered sequence number, so each message is queued once and in order.
//! Queueing never blocks: a full subscription queue drops its oldest message and counts it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex, RwLock};

use super::{Event, Interest};

/// Publishers remembered at most; the least recently heard of is forgotten first. A publisher
/// is one node start, so this bounds memory in a cluster whose nodes restart for years.
const MAX_PUBLISHERS: usize = 4096;
/// Topics listed to peers at most: past this, peers are told to send everything at once (an
/// answer that carries the list must stay a small frame).
const MAX_INTEREST_TOPICS: usize = 1024;

pub struct Inbox {
    /// Publisher id to (last sequence number delivered, when last heard of).
    publishers: Mutex<HashMap<u64, (u64, Instant)>>,
    topics: RwLock<HashMap<String, Vec<Arc<Subscription>>>>,
    by_id: Mutex<HashMap<u64, Arc<Subscription>>>,
    next_id: AtomicU64,
    /// The keys of `topics` as peers learn them; replaced when a topic gains its first
    /// subscriber or loses its last.
    interest: RwLock<Arc<Interest>>,
}

impl Default for Inbox {
    fn default() -> Inbox {
        Inbox {
            publishers: Mutex::default(),
            topics: RwLock::default(),
            by_id: Mutex::default(),
            next_id: AtomicU64::default(),
            // Random, so that a restarted node's first version differs from what peers held.
            interest: RwLock::new(Arc::new(Interest {
                version: rand::random::<u64>().max(1),
                topics: Some(Vec::new()),
            })),
        }
    }
}

impl Inbox {
    /// Queues each new message of `publisher` for the subscribers of its topic and returns the
    /// last sequence number delivered. Messages at or below it are duplicates; a message further
    /// on than the next expected one means the publisher dropped some for us (its buffer
    /// overflowed while we were unreachable), which is logged.
    pub fn deliver<'a>(
        &self,
        publisher: u64,
        origin: &str,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> u64 {
        let mut publishers = self.publishers.lock();
        let now = Instant::now();
        let known = publishers.get(&publisher).map(|(last, _)| *last);
        let mut last = known;
        let topics = self.topics.read();
        // Woken once the locks are released: a subscriber thread woken inside them may publish
        // at once (an echo), and it would then spin and yield on this very lock.
        let mut woken: Vec<Arc<Subscription>> = Vec::new();
        for event in events {
            if let Some(l) = last {
                if event.seq <= l {
                    continue;
                }
                if event.seq > l + 1 {
                    tracing::warn!(
                        origin,
                        lost = event.seq - l - 1,
                        "events from a publisher were lost: its retransmission buffer overflowed while this node was unreachable"
                    );
                }
            }
            last = Some(event.seq);
            if let Some(subscribers) = topics.get(&event.topic) {
                for s in subscribers {
                    if s.push(event.payload.clone()) {
                        woken.push(Arc::clone(s));
                    }
                }
            }
        }
        drop(topics);
        let last = last.unwrap_or(0);
        if known.is_none() && publishers.len() >= MAX_PUBLISHERS {
            if let Some(oldest) = publishers
                .iter()
                .min_by_key(|(_, (_, seen))| *seen)
                .map(|(id, _)| *id)
            {
                publishers.remove(&oldest);
            }
        }
        publishers.insert(publisher, (last, now));
        drop(publishers);
        for s in woken {
            s.wake();
        }
        last
    }

    pub fn subscribe(&self, topic: &str, capacity: usize) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let subscription = Arc::new(Subscription::new(topic.to_string(), capacity.max(1)));
        // Under the publishers lock, so that a subscription sees either all or none of a batch.
        let _order = self.publishers.lock();
        let mut topics = self.topics.write();
        let list = topics.entry(topic.to_string()).or_default();
        list.push(Arc::clone(&subscription));
        if list.len() == 1 {
            self.interest_changed(&topics);
        }
        drop(topics);
        self.by_id.lock().insert(id, subscription);
        id
    }

    /// The topics this node has subscribers for, as its peers learn them.
    pub fn interest(&self) -> Arc<Interest> {
        Arc::clone(&self.interest.read())
    }

    fn interest_changed(&self, topics: &HashMap<String, Vec<Arc<Subscription>>>) {
        let mut interest = self.interest.write();
        let listed =
            (topics.len() <= MAX_INTEREST_TOPICS).then(|| topics.keys().cloned().collect());
        *interest = Arc::new(Interest {
            version: interest.version.wrapping_add(1).max(1),
            topics: listed,
        });
    }

    pub fn subscription(&self, id: u64) -> Option<Arc<Subscription>> {
        self.by_id.lock().get(&id).cloned()
    }

    pub fn unsubscribe(&self, id: u64) {
        let Some(subscription) = self.by_id.lock().remove(&id) else {
            return;
        };
        subscription.close();
        let mut topics = self.topics.write();
        if let Some(list) = topics.get_mut(&subscription.topic) {
            list.retain(|s| !Arc::ptr_eq(s, &subscription));
            if list.is_empty() {
                topics.remove(&subscription.topic);
                self.interest_changed(&topics);
            }
        }
    }

    pub fn close_all(&self) {
        let all: Vec<u64> = self.by_id.lock().keys().copied().collect();
        for id in all {
            self.unsubscribe(id);
        }
    }
}

struct Queue {
    items: VecDeque<Bytes>,
    /// Dropped since the last poll: logged by the next poll, which runs on the subscriber's
    /// own thread, not on the network's.
    unreported: u64,
    dropped: u64,
    closed: bool,
}

/// One subscriber's bounded queue, drained by one Java thread.
pub struct Subscription {
    topic: String,
    capacity: usize,
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Subscription {
    fn new(topic: String, capacity: usize) -> Subscription {
        Subscription {
            topic,
            capacity,
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                unreported: 0,
                dropped: 0,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// Queues without waking the subscriber's thread: returns whether the caller must `wake` it
    /// (after its own locks). Only a push into an empty queue must: `poll` waits only while the
    /// queue is empty, so with messages queued the thread is busy, or the push that found the
    /// queue empty has its wake-up still to come.
    fn push(&self, payload: Bytes) -> bool {
        let mut q = self.queue.lock();
        if q.closed {
            return false;
        }
        if q.items.len() >= self.capacity {
            q.items.pop_front();
            q.unreported += 1;
            q.dropped += 1;
        }
        let was_empty = q.items.is_empty();
        q.items.push_back(payload);
        was_empty
    }

    fn wake(&self) {
        self.ready.notify_one();
    }

    /// Waits up to `timeout` for messages and takes up to `max` of them; `None` once closed.
    pub fn poll(&self, timeout: Duration, max: usize) -> Option<Vec<Bytes>> {
        let deadline = Instant::now() + timeout;
        let mut q = self.queue.lock();
        while q.items.is_empty() && !q.closed {
            if self.ready.wait_until(&mut q, deadline).timed_out() {
                break;
            }
        }
        if q.closed {
            return None;
        }
        if q.unreported > 0 {
            tracing::warn!(
                topic = %self.topic,
                dropped = q.unreported,
                total_dropped = q.dropped,
                capacity = self.capacity,
                "a subscriber is too slow: its queue was full and its oldest undelivered events were dropped"
            );
            q.unreported = 0;
        }
        let n = q.items.len().min(max.max(1));
        Some(q.items.drain(..n).collect())
    }

    /// Messages dropped so far because this subscriber's queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.lock().dropped
    }

    fn close(&self) {
        let mut q = self.queue.lock();
        q.closed = true;
        q.items.clear();
        drop(q);
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Event {
        Event {
            seq,
            topic: "t".into(),
            payload: Bytes::from(seq.to_string()),
        }
    }

    fn drain(s: &Subscription) -> Vec<String> {
        s.poll(Duration::ZERO, usize::MAX)
            .unwrap_or_default()
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn duplicates_and_replays_are_delivered_once_in_order() {
        let inbox = Inbox::default();
        let id = inbox.subscribe("t", 100);
        let s = inbox.subscription(id).unwrap();
        assert_eq!(inbox.deliver(7, "a", &[event(1), event(2), event(3)]), 3);
        assert_eq!(inbox.deliver(7, "a", &[event(2), event(3), event(4)]), 4);
        assert_eq!(inbox.deliver(7, "a", &[event(1)]), 4);
        assert_eq!(drain(&s), ["1", "2", "3", "4"]);
    }

    /// The wake-up comes after the delivery's locks, and only for a push into an empty queue:
    /// a subscriber waiting with a long timeout still returns at once, round after round.
    #[test]
    fn a_waiting_subscriber_is_woken_by_each_delivery() {
        let inbox = Arc::new(Inbox::default());
        let id = inbox.subscribe("t", 100);
        let s = inbox.subscription(id).unwrap();
        for seq in 1..=3 {
            let waiter = {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let got = s.poll(Duration::from_secs(10), 10).unwrap();
                    (got.len(), start.elapsed())
                })
            };
            std::thread::sleep(Duration::from_millis(50));
            inbox.deliver(7, "a", &[event(seq)]);
            let (got, waited) = waiter.join().unwrap();
            assert_eq!(got, 1);
            assert!(waited < Duration::from_secs(2), "woken after {waited:?}");
        }
    }

    #[test]
    fn a_full_queue_drops_its_oldest_and_counts_them() {
        let inbox = Inbox::default();
        let id = inbox.subscribe("t", 3);
        let s = inbox.subscription(id).unwrap();
        let events: Vec<Event> = (1..=5).map(event).collect();
        inbox.deliver(1, "a", &events);
        assert_eq!(s.dropped(), 2);
        assert_eq!(drain(&s), ["3", "4", "5"]);
    }

    #[test]
    fn the_interest_changes_when_a_topic_gains_its_first_or_loses_its_last_subscriber() {
        let inbox = Inbox::default();
        let topics = |inbox: &Inbox| inbox.interest().topics.clone().unwrap_or_default();
        let start = inbox.interest().version;
        let first = inbox.subscribe("t", 3);
        let changed = inbox.interest().version;
        assert_ne!(changed, start);
        assert_eq!(topics(&inbox), ["t"]);
        let second = inbox.subscribe("t", 3);
        inbox.unsubscribe(first);
        assert_eq!(inbox.interest().version, changed, "t kept a subscriber");
        inbox.unsubscribe(second);
        assert_ne!(inbox.interest().version, changed);
        assert!(topics(&inbox).is_empty());
    }

    #[test]
    fn a_closed_subscription_polls_none_and_gets_nothing_more() {
        let inbox = Inbox::default();
        let id = inbox.subscribe("t", 3);
        let s = inbox.subscription(id).unwrap();
        inbox.unsubscribe(id);
        inbox.deliver(1, "a", &[event(1)]);
        assert!(s.poll(Duration::from_millis(1), 10).is_none());
        assert!(inbox.subscription(id).is_none());
    }
}
