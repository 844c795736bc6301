//! The one place where a Rust failure becomes a Java exception. Every native method resolves
//! its outcome through `ThrowJava`, so a Rust error, a JNI error or a panic always reaches Java
//! as an exception with a message a person can act on, and never unwinds into the JVM.

use std::any::Any;

use jni::errors::ErrorPolicy;
use jni::Env;

use crate::error::ClusterError;

const CLUSTER_EXCEPTION: &str = "org/openmrs/module/cluster/ClusterException";
const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
const ILLEGAL_STATE: &str = "java/lang/IllegalStateException";
const ILLEGAL_MONITOR_STATE: &str = "java/lang/IllegalMonitorStateException";

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
    #[error("{0}")]
    IllegalState(String),
    #[error("{0}")]
    IllegalMonitorState(String),
}

impl Failure {
    fn java_class(&self) -> &'static str {
        match self {
            Failure::Cluster(ClusterError::Config { .. } | ClusterError::Limit(_)) => {
                ILLEGAL_ARGUMENT
            }
            Failure::IllegalState(_) => ILLEGAL_STATE,
            Failure::IllegalMonitorState(_) => ILLEGAL_MONITOR_STATE,
            _ => CLUSTER_EXCEPTION,
        }
    }
}

pub struct ThrowJava;

fn throw(env: &mut Env<'_>, class: &str, message: &str) {
    // If even this fails (no such class in this loader), the JNI error is itself pending as an
    // exception, which is the best that can be reported.
    let _ = env.throw_new(
        jni::strings::JNIString::from(class),
        jni::strings::JNIString::from(message),
    );
}

impl<T: Default> ErrorPolicy<T, Failure> for ThrowJava {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: Failure,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            throw(env, err.java_class(), &err.to_string());
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let what = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        // Dropping a payload can itself panic; leak it rather than risk unwinding into the JVM.
        std::mem::forget(payload);
        if !env.exception_check() {
            throw(
                env,
                CLUSTER_EXCEPTION,
                &format!("internal error in the openmrs-cluster native library: {what}"),
            );
        }
        Ok(T::default())
    }
}
