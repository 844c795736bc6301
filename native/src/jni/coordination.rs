//! The queue, schedule and panic methods of `internal.Native`: see docs/jni-contract.md.

use jni::objects::{JByteArray, JClass, JObjectArray, JString};
use jni::sys::{jboolean, jlong};
use jni::EnvUnowned;

use super::{byte_arrays, millis, non_negative, on_named, on_node, required};
use crate::coordination::DeadLetter;

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueOffer<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
    payload: JByteArray<'local>,
) {
    on_named(env, handle, &queue, |env, node, queue| {
        let bytes = env.convert_byte_array(&payload)?;
        Ok(node.queue_offer(&queue, &bytes)?)
    })
}

/// The claim as one array: its id in 8 big-endian bytes, then the item; null when none came.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queuePoll<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
    wait_ms: jlong,
) -> JByteArray<'local> {
    on_named(env, handle, &queue, |env, node, queue| {
        match node.queue_poll(&queue, millis(wait_ms))? {
            Some((id, payload)) => {
                let mut claim = id.to_be_bytes().to_vec();
                claim.extend_from_slice(&payload);
                Ok(env.byte_array_from_slice(&claim)?)
            }
            None => Ok(JByteArray::default()),
        }
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueSettle<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
    id: jlong,
    done: jboolean,
) -> jboolean {
    on_named(env, handle, &queue, |_, node, queue| {
        Ok(node.queue_settle(&queue, id as u64, done)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueSize<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
) -> jlong {
    on_named(env, handle, &queue, |_, node, queue| {
        Ok(node.queue_size(&queue)? as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueSetAside<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
    id: jlong,
    reason: JString<'local>,
    at_ms: jlong,
) -> jboolean {
    on_named(env, handle, &queue, |env, node, queue| {
        let reason = required(env, &reason, "reason")?;
        Ok(node.queue_set_aside(&queue, id as u64, &reason, non_negative(at_ms))?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueDeadLetters<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
) -> JObjectArray<'local, JByteArray<'local>> {
    on_named(env, handle, &queue, |env, node, queue| {
        let letters: Vec<Vec<u8>> = node
            .queue_dead_letters(&queue)?
            .iter()
            .map(dead_letter_bytes)
            .collect();
        byte_arrays(env, &letters)
    })
}

/// Id 0 removes every dead letter of the queue (ids start at 1).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_queueClearDeadLetters<
    'local,
>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    queue: JString<'local>,
    id: jlong,
) -> jlong {
    on_named(env, handle, &queue, |_, node, queue| {
        let id = (id != 0).then_some(id as u64);
        Ok(node.queue_clear_dead_letters(&queue, id)? as jlong)
    })
}

/// A dead letter as Java reads it: id and time (8 big-endian bytes each), the node's name and the
/// reason (each a 4-byte big-endian length, then UTF-8), then the item's bytes.
fn dead_letter_bytes(letter: &DeadLetter) -> Vec<u8> {
    let mut bytes =
        Vec::with_capacity(24 + letter.node.len() + letter.reason.len() + letter.payload.len());
    bytes.extend_from_slice(&letter.id.to_be_bytes());
    bytes.extend_from_slice(&letter.at_ms.to_be_bytes());
    for text in [&letter.node, &letter.reason] {
        bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
        bytes.extend_from_slice(text.as_bytes());
    }
    bytes.extend_from_slice(&letter.payload);
    bytes
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_scheduleJoin<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
) {
    on_named(env, handle, &name, |_, node, name| {
        Ok(node.schedule_join(&name)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_scheduleWithdraw<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
) {
    on_named(env, handle, &name, |_, node, name| {
        Ok(node.schedule_withdraw(&name)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_scheduleOwned<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
) -> jboolean {
    on_named(env, handle, &name, |_, node, name| {
        Ok(node.schedule_owned(&name))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_scheduleRun<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    period: jlong,
    period_ms: jlong,
) -> jboolean {
    on_named(env, handle, &name, |_, node, name| {
        Ok(node.schedule_run(&name, period as u64, non_negative(period_ms))?)
    })
}

/// Blocks up to `timeoutMs` for this node to panic: the reason, or null.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_panicAwait<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    timeout_ms: jlong,
) -> JString<'local> {
    on_node(env, handle, |env, node| {
        match node.panic_wait(millis(timeout_ms)) {
            Some(reason) => Ok(JString::from_str(env, reason)?),
            None => Ok(JString::default()),
        }
    })
}

/// Local, no network: whether this node's lease is valid and it has not panicked.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeLeaseValid<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jboolean {
    on_node(env, handle, |_, node| Ok(node.lease_valid()))
}
