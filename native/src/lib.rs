//! openmrs-cluster: the layer OpenMRS servers share when they run as a cluster. Loaded into
//! each OpenMRS JVM over JNI (`jni`); everything else is plain Rust, testable with several
//! nodes in one process.

pub mod cache;
pub mod clocks;
pub mod config;
pub mod consensus;
pub mod coordination;
pub mod crypto;
pub mod error;
pub mod events;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod jni;
pub mod limits;
pub mod logging;
pub mod membership;
pub mod node;
pub mod transport;
pub mod wire;

pub use config::NodeConfig;
pub use error::{ClusterError, Result};
pub use node::{Node, Status};
