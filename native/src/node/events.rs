//! The node's face for events (see `crate::events`): publish, subscribe, poll, unsubscribe.
//! Polling blocks the caller's own thread (a Java dispatcher), never a runtime worker.

use std::time::Duration;

use bytes::Bytes;

use super::Node;
use crate::error::{ClusterError, Result};
use crate::events::EventsError;

impl From<EventsError> for ClusterError {
    fn from(e: EventsError) -> ClusterError {
        match e {
            EventsError::Limit(limit) => ClusterError::Limit(limit),
            EventsError::NoSubscription(_) => ClusterError::Protocol(e.to_string()),
        }
    }
}

impl Node {
    pub fn events_publish(&self, topic: &str, payload: impl Into<Bytes>) -> Result<()> {
        self.ensure_open()?;
        Ok(self.shared.events.publish(topic, payload.into())?)
    }

    /// A new subscription whose queue holds at most `capacity` undelivered messages.
    pub fn events_subscribe(&self, topic: &str, capacity: usize) -> Result<u64> {
        self.ensure_open()?;
        Ok(self.shared.events.subscribe(topic, capacity)?)
    }

    /// Up to `max` messages, waiting up to `timeout` for the first; `None` once the
    /// subscription or the node is closed.
    pub fn events_poll(
        &self,
        id: u64,
        timeout: Duration,
        max: usize,
    ) -> Result<Option<Vec<Bytes>>> {
        let Ok(subscription) = self.shared.events.subscription(id) else {
            return Ok(None);
        };
        Ok(subscription.poll(timeout, max))
    }

    pub fn events_unsubscribe(&self, id: u64) {
        self.shared.events.unsubscribe(id);
    }

    /// Messages the subscription dropped because its queue was full.
    pub fn events_dropped(&self, id: u64) -> Result<u64> {
        Ok(self.shared.events.subscription(id)?.dropped())
    }
}
