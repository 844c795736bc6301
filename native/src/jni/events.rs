//! The event methods of `internal.Native`: see docs/jni-contract.md, section "Events".

use jni::objects::{JByteArray, JClass, JObjectArray, JString};
use jni::sys::{jint, jlong};
use jni::EnvUnowned;

use super::errors::ThrowJava;
use super::{handles, millis, on_named, on_node, poll_arrays, Outcome, MAX_POLL_BATCH};

fn sub_id(id: jlong) -> u64 {
    id as u64
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_eventsPublish<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    topic: JString<'local>,
    payload: JByteArray<'local>,
) {
    on_named(env, handle, &topic, |env, node, topic| {
        let bytes = env.convert_byte_array(&payload)?;
        Ok(node.events_publish(&topic, bytes)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_eventsSubscribe<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    topic: JString<'local>,
    capacity: jint,
) -> jlong {
    on_named(env, handle, &topic, |_, node, topic| {
        let capacity = usize::try_from(capacity).unwrap_or(1);
        Ok(node.events_subscribe(&topic, capacity)? as jlong)
    })
}

/// Blocks this Java thread up to `timeout_ms`; null once the subscription or node is closed.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_eventsPoll<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
    timeout_ms: jlong,
) -> JObjectArray<'local, JByteArray<'local>> {
    poll_arrays(env, handle, |node| {
        Ok(node.events_poll(sub_id(id), millis(timeout_ms), MAX_POLL_BATCH)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_eventsUnsubscribe<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
) {
    let mut env = env;
    env.with_env(|_env| -> Outcome<()> {
        // Unsubscribing from a closed node has nothing left to do.
        if let Ok(node) = handles::node(handle) {
            node.events_unsubscribe(sub_id(id));
        }
        Ok(())
    })
    .resolve::<ThrowJava>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_eventsDropped<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jlong,
) -> jlong {
    on_node(env, handle, |_, node| {
        Ok(node.events_dropped(sub_id(id))? as jlong)
    })
}
