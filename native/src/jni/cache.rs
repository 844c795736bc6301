//! The cache methods of `internal.Native`: see docs/jni-contract.md, section "Caches".

use bytes::Bytes;
use jni::objects::{JByteArray, JClass, JObjectArray, JString};
use jni::sys::{jint, jlong};
use jni::{Env, EnvUnowned};

use super::errors::Failure;
use super::{
    byte_arrays, millis, non_negative, nullable_byte_arrays, on_named, on_node, poll_arrays,
    Outcome, MAX_POLL_BATCH,
};
use crate::cache::Mode;

fn bytes(env: &Env<'_>, array: &JByteArray<'_>, what: &str) -> Outcome<Bytes> {
    if array.is_null() {
        return Err(Failure::IllegalState(format!("{what} must not be null")));
    }
    Ok(Bytes::from(env.convert_byte_array(array)?))
}

/// An entry as Java reads it: its expiry (epoch ms, i64::MAX for none) as 8 big-endian bytes, then its value.
fn entry_bytes(expires_at: u64, value: &[u8]) -> Vec<u8> {
    let mut answer = Vec::with_capacity(8 + value.len());
    answer.extend_from_slice(&expires_at.min(i64::MAX as u64).to_be_bytes());
    answer.extend_from_slice(value);
    answer
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheOpen<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    mode: jint,
    max_entries: jlong,
    ttl_ms: jlong,
    wait_ms: jlong,
) -> jlong {
    on_named(env, handle, &name, |_, node, name| {
        let mode = match mode {
            0 => Mode::Replicated,
            1 => Mode::Invalidation,
            other => return Err(Failure::IllegalState(format!("unknown cache mode {other}"))),
        };
        let max_entries = usize::try_from(max_entries).ok().filter(|&n| n > 0);
        let ttl = (ttl_ms > 0).then(|| millis(ttl_ms));
        Ok(node.cache_open(&name, mode, max_entries, ttl, millis(wait_ms))? as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheGet<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    key: JByteArray<'local>,
) -> JByteArray<'local> {
    on_node(env, handle, |env, node| {
        let key = bytes(env, &key, "key")?;
        match node.cache_get(cache as u64, &key)? {
            Some((expires_at, value)) => {
                Ok(env.byte_array_from_slice(&entry_bytes(expires_at, &value))?)
            }
            None => Ok(JByteArray::default()),
        }
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cachePut<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    key: JByteArray<'local>,
    value: JByteArray<'local>,
) {
    on_node(env, handle, |env, node| {
        let key = bytes(env, &key, "key")?;
        let value = bytes(env, &value, "value")?;
        Ok(node.cache_put(cache as u64, key, value)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheRemove<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    key: JByteArray<'local>,
) {
    on_node(env, handle, |env, node| {
        let key = bytes(env, &key, "key")?;
        Ok(node.cache_remove(cache as u64, key)?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheClear<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
) {
    on_node(env, handle, |_, node| Ok(node.cache_clear(cache as u64)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheSize<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
) -> jlong {
    on_node(env, handle, |_, node| {
        Ok(node.cache_len(cache as u64)? as jlong)
    })
}

/// Every key's entry as `cacheGet` answers it (null when absent), in one crossing.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheGetAll<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    keys: JObjectArray<'local, JByteArray<'local>>,
) -> JObjectArray<'local, JByteArray<'local>> {
    on_node(env, handle, |env, node| {
        let keys = byte_array_elements(env, &keys, "keys")?;
        let found = node.cache_get_all(cache as u64, &keys)?;
        let entries = found
            .into_iter()
            .map(|entry| entry.map(|(expires_at, value)| entry_bytes(expires_at, &value)));
        nullable_byte_arrays(env, entries)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cachePutAll<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    keys: JObjectArray<'local, JByteArray<'local>>,
    values: JObjectArray<'local, JByteArray<'local>>,
) {
    on_node(env, handle, |env, node| {
        let keys = byte_array_elements(env, &keys, "keys")?;
        let values = byte_array_elements(env, &values, "values")?;
        if keys.len() != values.len() {
            return Err(Failure::IllegalState(format!(
                "{} keys but {} values",
                keys.len(),
                values.len()
            )));
        }
        Ok(node.cache_put_all(cache as u64, keys.into_iter().zip(values).collect())?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheEvictions<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
) -> jlong {
    on_node(env, handle, |_, node| {
        Ok(jlong::try_from(node.cache_evictions(cache as u64)?).unwrap_or(jlong::MAX))
    })
}

fn byte_array_elements(
    env: &mut Env<'_>,
    array: &JObjectArray<'_, JByteArray<'_>>,
    what: &str,
) -> Outcome<Vec<Bytes>> {
    if array.is_null() {
        return Err(Failure::IllegalState(format!("{what} must not be null")));
    }
    let len = array.len(env)?;
    let mut items = Vec::with_capacity(len);
    for i in 0..len {
        let element = array.get_element(env, i)?;
        items.push(bytes(env, &element, what)?);
        env.delete_local_ref(element);
    }
    Ok(items)
}

/// A snapshot of the keys, for iteration; `max` bounds the local references one call makes.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheKeys<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    cache: jlong,
    max: jlong,
) -> JObjectArray<'local, JByteArray<'local>> {
    on_node(env, handle, |env, node| {
        let max = usize::try_from(non_negative(max)).unwrap_or(usize::MAX);
        let keys = node.cache_keys(cache as u64, max)?;
        byte_arrays(env, &keys)
    })
}

/// Blocks this Java thread up to `timeout_ms`; null once the node is closed.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_cacheInvalidations<
    'local,
>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    timeout_ms: jlong,
) -> JObjectArray<'local, JByteArray<'local>> {
    poll_arrays(env, handle, |node| {
        Ok(node
            .cache_invalidations(millis(timeout_ms), MAX_POLL_BATCH)
            .map(|batch| {
                batch
                    .into_iter()
                    .map(|(id, key)| {
                        [&id.to_be_bytes()[..], key.as_deref().unwrap_or_default()].concat()
                    })
                    .collect()
            }))
    })
}
