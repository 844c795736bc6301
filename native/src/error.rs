//! The errors a node reports. Each message is written for the operator who reads it in the
//! OpenMRS log or in a Java exception, so it says what happened and what to check.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClusterError {
    /// A configuration value is wrong; `key` is the property name the user wrote it under.
    #[error("{key}: {message}")]
    Config { key: &'static str, message: String },

    /// A member of the cluster refused this node for good (another app version, a name in use,
    /// a wrong secret). Retrying with the same configuration cannot succeed.
    #[error("{0}")]
    Refused(String),

    #[error("{0}")]
    JoinTimeout(String),

    /// The cluster did not answer in time (no leader, no majority); the caller may retry.
    #[error("{0}")]
    Unavailable(String),

    /// This node lost contact with the majority: lock calls fail until it has it again.
    #[error("{0}")]
    LostMajority(String),

    /// This node panicked (cut off from the majority too long) and refuses coordination calls.
    #[error("{0}")]
    Panicked(String),

    #[error("node '{0}' is closed")]
    Closed(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A peer sent something this node cannot accept; the connection is dropped, the node goes on.
    #[error("{0}")]
    Protocol(String),

    /// A name or payload past its documented limit (`limits`): the caller's mistake, an
    /// `IllegalArgumentException` in Java.
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
}

impl ClusterError {
    pub fn config(key: &'static str, message: impl Into<String>) -> Self {
        ClusterError::Config {
            key,
            message: message.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ClusterError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClusterError>;
