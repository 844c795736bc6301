//! Nodes handed to Java as `long` handles.
//!
//! A handle is a place in this copy of the library's registry, offset by a base drawn at random
//! when the library loads. A value that is not a handle of this copy (made up, mistyped, or kept
//! from another copy: each module class loader loads its own) finds nothing and fails with
//! `IllegalStateException`; it is never dereferenced, so it cannot crash the JVM. Closing a node
//! empties its place, which stays, so that a call racing with `close()` or coming after it is
//! told the node is closed. The cost is one slot per node started in the process.

use std::sync::Arc;

use jni::sys::jlong;
use once_cell::sync::Lazy;
use parking_lot::RwLock;

use super::errors::Failure;
use crate::node::Node;

struct Registry {
    /// Positive and far from small numbers, so that 0, -1 and small made-up values never match.
    base: u64,
    nodes: RwLock<Vec<Option<Arc<Node>>>>,
}

static REGISTRY: Lazy<Registry> = Lazy::new(|| Registry {
    base: (rand::random::<u64>() >> 2) | (1 << 40),
    nodes: RwLock::new(Vec::new()),
});

pub fn publish(node: Node) -> jlong {
    let mut nodes = REGISTRY.nodes.write();
    nodes.push(Some(Arc::new(node)));
    (REGISTRY.base + nodes.len() as u64 - 1) as jlong
}

/// Where `handle` would be in the registry; `usize::MAX` (never a place) for what cannot be one.
fn place(handle: jlong) -> usize {
    u64::try_from(handle)
        .ok()
        .and_then(|h| h.checked_sub(REGISTRY.base))
        .and_then(|i| usize::try_from(i).ok())
        .unwrap_or(usize::MAX)
}

fn unknown(handle: jlong) -> Failure {
    Failure::IllegalState(format!(
        "{handle} is not the handle of a node started by this copy of the library"
    ))
}

pub fn node(handle: jlong) -> Result<Arc<Node>, Failure> {
    match REGISTRY.nodes.read().get(place(handle)) {
        Some(Some(node)) => Ok(Arc::clone(node)),
        Some(None) => Err(Failure::IllegalState(
            "the node behind this handle is closed".into(),
        )),
        None => Err(unknown(handle)),
    }
}

/// Empties the node's place and returns the node, once.
pub fn take(handle: jlong) -> Result<Option<Arc<Node>>, Failure> {
    match REGISTRY.nodes.write().get_mut(place(handle)) {
        Some(slot) => Ok(slot.take()),
        None => Err(unknown(handle)),
    }
}
