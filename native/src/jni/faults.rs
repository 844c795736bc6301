//! Fault injection for multi-JVM tests: cut this node's links to one peer, or heal them all.
//! These are the switches the Rust tests use (`transport::Faults`), reachable from a child JVM
//! so that a real partition between processes can be staged without touching the host network.

use jni::objects::{JClass, JString};
use jni::sys::jlong;
use jni::EnvUnowned;

use super::{on_named, on_node};
use crate::error::ClusterError;

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_faultIsolate<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    peer: JString<'local>,
) {
    on_named(env, handle, &peer, |_, node, peer| {
        let addr = peer
            .parse()
            .map_err(|e| ClusterError::config("peer", format!("'{peer}' is not host:port: {e}")))?;
        node.faults().isolate(addr);
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_faultHeal<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    on_node(env, handle, |_, node| {
        node.faults().heal();
        Ok(())
    })
}
