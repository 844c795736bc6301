//! The lock methods of `internal.Native`: see docs/jni-contract.md, section "Locks".

use jni::objects::{JClass, JString};
use jni::sys::{jboolean, jlong};
use jni::EnvUnowned;

use super::errors::Failure;
use super::{millis, non_negative, on_named};

/// Java thread ids and request ids are positive longs; the bits carry over unchanged.
fn id(value: jlong) -> u64 {
    value as u64
}

fn fence_or_zero(fence: Option<u64>) -> jlong {
    fence.map_or(0, |f| f as jlong)
}

/// Epoch milliseconds and waits from Java; a negative value means "none" and becomes zero.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockTry<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    thread: jlong,
) -> jlong {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(fence_or_zero(node.lock_try(&lock, id(thread))?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockAcquire<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    thread: jlong,
    request: jlong,
    wait_ms: jlong,
) -> jlong {
    on_named(env, handle, &name, |_, node, lock| {
        let wait = millis(wait_ms);
        Ok(fence_or_zero(node.lock_acquire(
            &lock,
            id(thread),
            id(request),
            wait,
        )?))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockCancel<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    thread: jlong,
    request: jlong,
) {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(node.lock_cancel(&lock, id(thread), id(request))?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockRelease<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    thread: jlong,
    fence: jlong,
) {
    on_named(env, handle, &name, |_, node, lock| {
        if node.lock_release(&lock, id(thread), id(fence))? {
            return Ok(());
        }
        Err(Failure::IllegalMonitorState(format!(
            "lock '{lock}' is no longer held under fence {fence}: node '{}' lost it \
             (its session ended or it lost contact with the majority)",
            node.name()
        )))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockHeld<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    thread: jlong,
    fence: jlong,
) -> jboolean {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(node.lock_held(&lock, id(thread), id(fence)))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_lockIsLocked<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
) -> jboolean {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(node.lock_is_locked(&lock)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_shedLock<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    now_ms: jlong,
    until_ms: jlong,
) -> jboolean {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(node.shed_lock(&lock, non_negative(now_ms), non_negative(until_ms))?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_shedUnlock<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    at_ms: jlong,
) {
    on_named(env, handle, &name, |_, node, lock| {
        Ok(node.shed_unlock(&lock, non_negative(at_ms))?)
    })
}
