//! Publish and subscribe across the cluster, over the encrypted transport and not through Raft:
//! events need speed, not a log entry each.
//!
//! Each node is a publisher with a random id of its own (new at every start) and a sequence
//! number per message. `outbox` keeps a bounded retransmission buffer and one sender task per
//! peer, which ships batches from the peer's last acknowledged sequence number on; `inbox`
//! de-duplicates by (publisher, seq), delivers each publisher's messages in order, and keeps one
//! bounded queue per subscription that a Java thread drains (docs/architecture.md, "Events").

mod inbox;
mod outbox;

pub use inbox::Subscription;

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::crypto::ClusterKeys;
use crate::limits::{check_name, check_payload, LimitError, Named, Payload};
use crate::membership::View;
use crate::transport::Faults;

use self::inbox::Inbox;
use self::outbox::Outbox;

/// One message as it travels: its publisher's sequence number, its topic, opaque bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub topic: String,
    pub payload: Bytes,
}

/// Consecutive messages of one publisher, in sequence order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBatch {
    /// The publisher's id, random per node start: a restarted node is a new publisher.
    pub publisher: u64,
    /// The publishing node's name, for log messages.
    pub origin: String,
    pub events: Vec<Event>,
    /// Whether the sender wants an `EventsAck` for this batch (it asks now and then, not for
    /// every batch: each answer costs both nodes a wake-up).
    pub ack: bool,
    /// The version of the receiver's `Interest` the sender holds (0: none); the answer brings
    /// the receiver's topics when they are newer.
    pub interest: u64,
}

/// The answer to a batch that asked for one: the receiver has everything of `publisher` up to
/// `last`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsAck {
    pub publisher: u64,
    pub last: u64,
    /// The receiver's topics, when the batch held another version of them.
    pub interest: Option<Interest>,
}

/// The topics a node has subscribers for, so that its peers send it the other topics' messages
/// lazily, in batches (they still send them: a subscription may be on its way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// Changes with every change of `topics`; random at each start, never 0.
    pub version: u64,
    /// `None`: too many to list, send everything at once.
    pub topics: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventsError {
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("no subscription {0} on this node (closed already?)")]
    NoSubscription(u64),
}

pub struct Events {
    inbox: Arc<Inbox>,
    outbox: Arc<Outbox>,
}

impl Events {
    /// Must be called on the node's runtime: peer senders are spawned on it.
    pub fn start(origin: String, view: View, keys: ClusterKeys, faults: Faults) -> Arc<Events> {
        let inbox = Arc::new(Inbox::default());
        let outbox = Outbox::start(rand::random(), origin, view, keys, faults);
        Arc::new(Events { inbox, outbox })
    }

    /// Delivers to this node's subscribers at once and queues for every live peer; never waits
    /// on the network.
    pub fn publish(&self, topic: &str, payload: Bytes) -> Result<(), EventsError> {
        check_name(Named::Topic, topic)?;
        check_payload(Payload::Event, payload.len(), topic)?;
        self.outbox.publish(topic, payload, |event| {
            // Under the outbox lock, so that local deliveries keep sequence order.
            self.inbox
                .deliver(self.outbox.publisher(), self.outbox.origin(), [event]);
        });
        Ok(())
    }

    /// A batch from a peer: delivered once each, in order. The answer, if the batch asks for
    /// one, says how far we are, and what we subscribe to if the sender's copy is out of date.
    pub fn receive(&self, batch: EventBatch) -> Option<EventsAck> {
        let publisher = batch.publisher;
        let last = self
            .inbox
            .deliver(publisher, &batch.origin, batch.events.iter());
        if !batch.ack {
            return None;
        }
        let interest = self.inbox.interest();
        Some(EventsAck {
            publisher,
            last,
            interest: (interest.version != batch.interest).then(|| interest.as_ref().clone()),
        })
    }

    pub fn subscribe(&self, topic: &str, capacity: usize) -> Result<u64, EventsError> {
        check_name(Named::Topic, topic)?;
        Ok(self.inbox.subscribe(topic, capacity))
    }

    pub fn subscription(&self, id: u64) -> Result<Arc<Subscription>, EventsError> {
        self.inbox
            .subscription(id)
            .ok_or(EventsError::NoSubscription(id))
    }

    pub fn unsubscribe(&self, id: u64) {
        self.inbox.unsubscribe(id);
    }

    /// Wakes every waiting poller with "closed" and stops the peer senders.
    pub fn close(&self) {
        self.inbox.close_all();
        self.outbox.close();
    }
}
