//! The JNI boundary: the only module that knows Java exists. Each function below implements a
//! `static native` method of `org.openmrs.module.cluster.internal.Native` (docs/jni-contract.md),
//! converts its arguments, calls the node, and resolves every error or panic into a Java
//! exception through `errors::ThrowJava`.

mod cache;
mod coordination;
mod errors;
mod events;
mod faults;
mod handles;
mod locks;

use std::time::Duration;

use jni::objects::{JByteArray, JClass, JObjectArray, JString};
use jni::sys::{jint, jlong};
use jni::{Env, EnvUnowned};

use self::errors::{Failure, ThrowJava};
use crate::config::NodeConfig;
use crate::crypto::Secret;
use crate::limits::{check_name, Named};
use crate::node::Node;

type Outcome<T> = Result<T, Failure>;

fn optional(env: &Env<'_>, s: &JString<'_>) -> Outcome<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        Ok(Some(s.try_to_string(env)?))
    }
}

fn required(env: &Env<'_>, s: &JString<'_>, what: &str) -> Outcome<String> {
    optional(env, s)?.ok_or_else(|| Failure::IllegalState(format!("{what} must not be null")))
}

/// Runs `f` on the node behind `handle`, resolving every failure into a Java exception.
fn on_node<'local, T: Default>(
    mut env: EnvUnowned<'local>,
    handle: jlong,
    f: impl FnOnce(&mut Env<'local>, &Node) -> Outcome<T>,
) -> T {
    env.with_env(|env| -> Outcome<T> {
        let node = handles::node(handle)?;
        f(env, &node)
    })
    .resolve::<ThrowJava>()
}

/// As `on_node`, with the Java string `name` (a lock, queue or schedule name) converted.
fn on_named<'local, T: Default>(
    env: EnvUnowned<'local>,
    handle: jlong,
    name: &JString<'local>,
    f: impl FnOnce(&mut Env<'local>, &Node, String) -> Outcome<T>,
) -> T {
    on_node(env, handle, |env, node| {
        let name = required(env, name, "name")?;
        f(env, node, name)
    })
}

/// A duration from Java milliseconds; a negative one is zero.
fn millis(ms: jlong) -> Duration {
    Duration::from_millis(non_negative(ms))
}

fn non_negative(value: jlong) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Items handed to Java per poll at most: bounds the local references one call makes.
const MAX_POLL_BATCH: usize = 1024;

/// A blocking poll of the node (events, cache invalidations) answered as `byte[][]`: null once
/// the node, or what `poll` waits on, is closed (a poller's way out, not an error).
fn poll_arrays<'local, B: AsRef<[u8]>>(
    mut env: EnvUnowned<'local>,
    handle: jlong,
    poll: impl FnOnce(&Node) -> Outcome<Option<Vec<B>>>,
) -> JObjectArray<'local, JByteArray<'local>> {
    env.with_env(|env| -> Outcome<JObjectArray<'local, JByteArray<'local>>> {
        let Ok(node) = handles::node(handle) else {
            return Ok(JObjectArray::<JByteArray>::null());
        };
        let Some(items) = poll(&node)? else {
            return Ok(JObjectArray::<JByteArray>::null());
        };
        byte_arrays(env, &items)
    })
    .resolve::<ThrowJava>()
}

fn byte_arrays<'local, B: AsRef<[u8]>>(
    env: &mut Env<'local>,
    items: &[B],
) -> Outcome<JObjectArray<'local, JByteArray<'local>>> {
    nullable_byte_arrays(env, items.iter().map(Some))
}

/// A `byte[][]` with a null element for each `None`.
fn nullable_byte_arrays<'local, B: AsRef<[u8]>>(
    env: &mut Env<'local>,
    items: impl ExactSizeIterator<Item = Option<B>>,
) -> Outcome<JObjectArray<'local, JByteArray<'local>>> {
    let array = JObjectArray::<JByteArray>::new(env, items.len(), JByteArray::null())?;
    for (i, item) in items.enumerate() {
        if let Some(item) = item {
            let bytes = env.byte_array_from_slice(item.as_ref())?;
            array.set_element(env, i, &bytes)?;
            // Long arrays would otherwise pile up local references until the call returns.
            env.delete_local_ref(bytes);
        }
    }
    Ok(array)
}

fn string_array<'local>(
    env: &mut Env<'local>,
    items: &[String],
) -> Outcome<JObjectArray<'local, JString<'local>>> {
    let array = JObjectArray::<JString>::new(env, items.len(), JString::null())?;
    for (i, item) in items.iter().enumerate() {
        let s = JString::from_str(env, item)?;
        array.set_element(env, i, &s)?;
        // Long arrays would otherwise pile up local references until the call returns.
        env.delete_local_ref(s);
    }
    Ok(array)
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_libraryVersion<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> Outcome<JString<'local>> {
        Ok(JString::from_str(env, env!("CARGO_PKG_VERSION"))?)
    })
    .resolve::<ThrowJava>()
}

/// The bare cost of crossing into Rust and back, for the benchmarks.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_noop<'local>(
    _env: EnvUnowned<'local>,
    _class: JClass<'local>,
) {
}

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeStart<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    cluster_name: JString<'local>,
    node_name: JString<'local>,
    bind: JString<'local>,
    seeds: JString<'local>,
    secret: JString<'local>,
    data_dir: JString<'local>,
    app_version: JString<'local>,
    join_timeout_ms: jlong,
    raft_voters: jint,
    panic_timeout_ms: jlong,
) -> jlong {
    env.with_env(|env| -> Outcome<jlong> {
        let config = NodeConfig::from_text(
            &required(env, &cluster_name, "clusterName")?,
            optional(env, &node_name)?.as_deref(),
            &required(env, &bind, "bind")?,
            &optional(env, &seeds)?.unwrap_or_default(),
            optional(env, &secret)?.map(Secret::new),
            optional(env, &data_dir)?.as_deref(),
            &required(env, &app_version, "appVersion")?,
            join_timeout_ms,
            raft_voters,
            panic_timeout_ms,
        )?;
        Ok(handles::publish(Node::start(config)?))
    })
    .resolve::<ThrowJava>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeClose<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> Outcome<()> {
        if let Some(node) = handles::take(handle)? {
            node.close();
        }
        Ok(())
    })
    .resolve::<ThrowJava>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeName<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JString<'local> {
    on_node(env, handle, |env, node| {
        Ok(JString::from_str(env, node.name())?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeAddress<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JString<'local> {
    on_node(env, handle, |env, node| {
        Ok(JString::from_str(env, node.address().to_string())?)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeMembers<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObjectArray<'local, JString<'local>> {
    on_node(env, handle, |env, node| {
        let local = node.name().to_string();
        let flat: Vec<String> = node
            .members()?
            .into_iter()
            .flat_map(|m| {
                let is_local = (m.name == local).to_string();
                [m.name, m.addr.to_string(), m.app_version, is_local]
            })
            .collect();
        string_array(env, &flat)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_nodeStatus<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObjectArray<'local, JString<'local>> {
    on_node(env, handle, |env, node| {
        let status = node.status()?;
        let mut flat = vec![
            status.role.to_string(),
            status.leader.unwrap_or_default(),
            status.term.to_string(),
        ];
        for (name, liveness) in status.members {
            flat.push(name);
            flat.push(liveness.as_str().to_string());
        }
        string_array(env, &flat)
    })
}

/// The node checks names on every call; Java asks here too before it makes an object for a
/// name (a lock, a queue), so that a bad name fails where it is given, not at first use.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_checkName<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    kind: JString<'local>,
    name: JString<'local>,
) {
    env.with_env(|env| -> Outcome<()> {
        let kind = required(env, &kind, "kind")?;
        let kind = Named::parse(&kind)
            .ok_or_else(|| Failure::IllegalState(format!("no kind of name called '{kind}'")))?;
        check_name(kind, &required(env, &name, "name")?).map_err(crate::ClusterError::from)?;
        Ok(())
    })
    .resolve::<ThrowJava>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_logInit<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    level: JString<'local>,
) {
    env.with_env(|env| -> Outcome<()> {
        let name = required(env, &level, "level")?;
        let level = crate::logging::parse_level(&name).ok_or_else(|| {
            crate::ClusterError::config(
                "openmrs.cluster.log.level",
                format!("'{name}' is not one of ERROR, WARN, INFO, DEBUG, TRACE"),
            )
        })?;
        crate::logging::install(level);
        Ok(())
    })
    .resolve::<ThrowJava>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_openmrs_module_cluster_internal_Native_logPoll<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    timeout_ms: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(|env| -> Outcome<JObjectArray<'local, JString<'local>>> {
        let flat: Vec<String> = crate::logging::poll(millis(timeout_ms))
            .into_iter()
            .flat_map(|r| [r.level.to_string(), r.target, r.message])
            .collect();
        string_array(env, &flat)
    })
    .resolve::<ThrowJava>()
}
