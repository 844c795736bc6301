//! Nodes handed to Java as `long` handles.
//!
//! A handle points at a small cell that is never freed: closing a node empties the cell, and a
//! call racing with `close()` (or arriving after it) finds it empty and fails cleanly instead of
//! touching freed memory. The cost is one pointer-sized cell per node started in the process.

use std::sync::Arc;

use jni::sys::jlong;
use parking_lot::RwLock;

use super::errors::Failure;
use crate::node::Node;

pub struct NodeCell {
    node: RwLock<Option<Arc<Node>>>,
}

pub fn publish(node: Node) -> jlong {
    let cell: &'static NodeCell = Box::leak(Box::new(NodeCell {
        node: RwLock::new(Some(Arc::new(node))),
    }));
    cell as *const NodeCell as jlong
}

fn cell(handle: jlong) -> Result<&'static NodeCell, Failure> {
    if handle == 0 {
        return Err(Failure::IllegalState("no node behind a null handle".into()));
    }
    // SAFETY: non-zero handles come only from `publish`, whose cells are leaked and so live
    // for the rest of the process; the Java side never fabricates a handle.
    Ok(unsafe { &*(handle as *const NodeCell) })
}

pub fn node(handle: jlong) -> Result<Arc<Node>, Failure> {
    cell(handle)?
        .node
        .read()
        .clone()
        .ok_or_else(|| Failure::IllegalState("the node behind this handle is closed".into()))
}

/// Empties the cell and returns the node, once.
pub fn take(handle: jlong) -> Result<Option<Arc<Node>>, Failure> {
    Ok(cell(handle)?.node.write().take())
}
