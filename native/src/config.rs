//! A node's configuration, typed and checked. The Java `ClusterConfig` checks the syntax a user
//! types; this side resolves addresses and owns the rules that need the network (loopback, ports).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::crypto::Secret;
use crate::error::{ClusterError, Result};

pub const KEY_CLUSTER_NAME: &str = "cluster.name";
pub const KEY_NODE_NAME: &str = "cluster.node.name";
pub const KEY_BIND: &str = "cluster.bind";
pub const KEY_SEEDS: &str = "cluster.seeds";
pub const KEY_SECRET: &str = "cluster.secret";
pub const KEY_APP_VERSION: &str = "cluster.app.version";
pub const KEY_JOIN_TIMEOUT: &str = "cluster.join.timeout.ms";
pub const KEY_RAFT_VOTERS: &str = "cluster.raft.voters";
pub const KEY_PANIC_TIMEOUT: &str = "cluster.panic.timeout.ms";

/// A panic timeout shorter than this would panic a node during an ordinary leader failover.
pub const MIN_PANIC_TIMEOUT: Duration = Duration::from_millis(2500);

/// Up to this many nodes vote in consensus; more voters cost every decision more messages.
pub const MAX_RAFT_VOTERS: usize = 9;

/// The shortest secret accepted, in bytes of UTF-8: keys are stretched from it, but a short one
/// is guessable all the same.
pub const MIN_SECRET_LEN: usize = 16;

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub cluster_name: String,
    /// None: named after the host and the bound port once the port is known.
    pub node_name: Option<String>,
    pub bind: SocketAddr,
    pub seeds: Vec<SocketAddr>,
    /// None: random keys, so that no other node can talk to this one (an embedded node).
    pub secret: Option<Secret>,
    pub data_dir: Option<PathBuf>,
    pub app_version: String,
    pub join_timeout: Duration,
    /// How many nodes vote in consensus; later nodes follow as learners until a voter dies.
    pub raft_voters: usize,
    /// Out of contact with the majority for longer than this, a node panics.
    pub panic_timeout: Duration,
}

impl NodeConfig {
    /// A loopback node on an ephemeral port that forms a cluster of its own.
    pub fn loopback(cluster_name: &str) -> NodeConfig {
        NodeConfig {
            cluster_name: cluster_name.to_string(),
            node_name: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seeds: Vec::new(),
            secret: None,
            data_dir: None,
            app_version: "unversioned".to_string(),
            join_timeout: Duration::from_secs(30),
            raft_voters: 3,
            panic_timeout: Duration::from_secs(5),
        }
    }

    /// Builds a configuration from the textual values the Java side hands over.
    #[allow(clippy::too_many_arguments)]
    pub fn from_text(
        cluster_name: &str,
        node_name: Option<&str>,
        bind: &str,
        seeds: &str,
        secret: Option<Secret>,
        data_dir: Option<&str>,
        app_version: &str,
        join_timeout_ms: i64,
        raft_voters: i32,
        panic_timeout_ms: i64,
    ) -> Result<NodeConfig> {
        let join_timeout = u64::try_from(join_timeout_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                ClusterError::config(
                    KEY_JOIN_TIMEOUT,
                    format!("must be a positive number of milliseconds, got {join_timeout_ms}"),
                )
            })?;
        let seeds = seeds
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| resolve(KEY_SEEDS, s))
            .collect::<Result<Vec<_>>>()?;
        let config = NodeConfig {
            cluster_name: cluster_name.to_string(),
            node_name: node_name.map(str::to_string),
            bind: resolve(KEY_BIND, bind)?,
            seeds,
            secret,
            data_dir: data_dir.map(PathBuf::from),
            app_version: app_version.to_string(),
            join_timeout,
            raft_voters: usize::try_from(raft_voters).unwrap_or(0),
            panic_timeout: Duration::from_millis(u64::try_from(panic_timeout_ms).unwrap_or(0)),
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        check_name(KEY_CLUSTER_NAME, &self.cluster_name)?;
        if let Some(name) = &self.node_name {
            check_name(KEY_NODE_NAME, name)?;
        }
        check_name(KEY_APP_VERSION, &self.app_version)?;
        if self.panic_timeout < MIN_PANIC_TIMEOUT {
            return Err(ClusterError::config(
                KEY_PANIC_TIMEOUT,
                format!(
                    "must be at least {} ms, got {} ms",
                    MIN_PANIC_TIMEOUT.as_millis(),
                    self.panic_timeout.as_millis()
                ),
            ));
        }
        if !(1..=MAX_RAFT_VOTERS).contains(&self.raft_voters) {
            return Err(ClusterError::config(
                KEY_RAFT_VOTERS,
                format!(
                    "must be from 1 to {MAX_RAFT_VOTERS}, got {}",
                    self.raft_voters
                ),
            ));
        }
        if self.bind.ip().is_unspecified() {
            return Err(ClusterError::config(
                KEY_BIND,
                format!(
                    "'{}' is a wildcard; give the address the other nodes reach this node at",
                    self.bind
                ),
            ));
        }
        if let Some(seed) = self.seeds.iter().find(|s| s.port() == 0) {
            return Err(ClusterError::config(
                KEY_SEEDS,
                format!("'{seed}' has no port"),
            ));
        }
        match &self.secret {
            Some(secret) if secret.expose().len() < MIN_SECRET_LEN => Err(ClusterError::config(
                KEY_SECRET,
                format!(
                    "must be at least {MIN_SECRET_LEN} bytes long; generate one with \
                     'java -jar openmrs-cluster-<version>.jar secret'"
                ),
            )),
            None if !self.seeds.is_empty() => Err(ClusterError::config(
                KEY_SECRET,
                format!(
                    "is required because {KEY_SEEDS} names other nodes: the keys of all traffic \
                     between nodes come from it; generate one with 'java -jar openmrs-cluster-<version>.jar secret'"
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn check_name(key: &'static str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 200 {
        return Err(ClusterError::config(
            key,
            "must be 1 to 200 characters long",
        ));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(ClusterError::config(
            key,
            format!("'{value}' must not contain white space or commas"),
        ));
    }
    Ok(())
}

fn resolve(key: &'static str, host_port: &str) -> Result<SocketAddr> {
    if let Ok(addr) = host_port.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let mut candidates = host_port.to_socket_addrs().map_err(|e| {
        ClusterError::config(
            key,
            format!("cannot resolve '{host_port}' as host:port: {e}"),
        )
    })?;
    // Prefer IPv4: the loopback tests and most hospital networks use it.
    let all: Vec<SocketAddr> = candidates.by_ref().collect();
    all.iter()
        .find(|a| matches!(a.ip(), IpAddr::V4(_)))
        .or_else(|| all.first())
        .copied()
        .ok_or_else(|| ClusterError::config(key, format!("'{host_port}' resolves to no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bind: &str, seeds: &str, secret: Option<&str>, timeout: i64) -> Result<NodeConfig> {
        NodeConfig::from_text(
            "c",
            None,
            bind,
            seeds,
            secret.map(Secret::new),
            None,
            "1.0",
            timeout,
            3,
            5000,
        )
    }

    fn key_of(result: Result<NodeConfig>) -> &'static str {
        match result {
            Err(ClusterError::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn seeds_need_a_secret_even_on_loopback() {
        let secret = Some("0123456789abcdef");
        let c = text(
            "127.0.0.1:0",
            "127.0.0.1:7001, localhost:7002",
            secret,
            1000,
        )
        .unwrap();
        assert_eq!(c.seeds.len(), 2);
        assert_eq!(
            key_of(text("127.0.0.1:0", "127.0.0.1:7001", None, 1000)),
            KEY_SECRET
        );
        assert!(text("127.0.0.1:0", "", None, 1000)
            .unwrap()
            .secret
            .is_none());
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let c = text("127.0.0.1:0", "", Some("a secret nobody may read"), 1000).unwrap();
        assert!(!format!("{c:?}").contains("nobody"));
    }

    #[test]
    fn each_bad_value_names_its_key() {
        assert_eq!(key_of(text("127.0.0.1:0", "", None, 0)), KEY_JOIN_TIMEOUT);
        assert_eq!(key_of(text("nohost.invalid:1", "", None, 10)), KEY_BIND);
        assert_eq!(
            key_of(text("0.0.0.0:7000", "", Some("0123456789abcdef"), 10)),
            KEY_BIND
        );
        assert_eq!(
            key_of(text("127.0.0.1:0", "127.0.0.1", None, 10)),
            KEY_SEEDS
        );
        assert_eq!(
            key_of(text("127.0.0.1:0", "127.0.0.1:0", None, 10)),
            KEY_SEEDS
        );
        assert_eq!(
            key_of(text("127.0.0.1:0", "10.0.0.1:7000", None, 10)),
            KEY_SECRET
        );
        assert_eq!(
            key_of(text("127.0.0.1:0", "", Some("short"), 10)),
            KEY_SECRET
        );
        let named = NodeConfig::from_text(
            "c",
            Some("a b"),
            "127.0.0.1:0",
            "",
            None,
            None,
            "1",
            5,
            3,
            5000,
        );
        assert_eq!(key_of(named), KEY_NODE_NAME);
    }
}
