//! A node: its tokio runtime, its sockets, its membership, and the lifecycle a `Cluster` on the
//! Java side drives (start, query, close).

mod greeter;
mod join;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::runtime::Runtime;

use crate::config::NodeConfig;
use crate::crypto::ClusterKeys;
use crate::error::{ClusterError, Result};
use crate::membership::{Liveness, Membership, NodeIdentity, View};
use crate::transport::{self, Datagrams, Faults};
use crate::wire::PROTOCOL_VERSION;

/// What the node's tasks share.
struct Shared {
    config: NodeConfig,
    keys: ClusterKeys,
    faults: Faults,
    view: View,
    membership: Membership,
    is_member: Arc<AtomicBool>,
}

pub struct Node {
    name: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Mutex<Option<Runtime>>,
}

/// The node's place in the cluster, as `Cluster.status()` reports it.
#[derive(Debug, Clone)]
pub struct Status {
    pub role: &'static str,
    pub leader: Option<String>,
    pub term: u64,
    pub members: Vec<(String, Liveness)>,
}

impl Node {
    /// Starts a node and returns once it is a member of the cluster, or fails after the join
    /// timeout. Must not be called from inside a tokio runtime: it blocks.
    pub fn start(config: NodeConfig) -> Result<Node> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("openmrs-cluster")
            .enable_all()
            .build()
            .map_err(|e| ClusterError::io("cannot start the node's runtime", e))?;
        match runtime.block_on(Self::start_on_runtime(config)) {
            Ok((name, addr, shared)) => Ok(Node {
                name,
                addr,
                shared,
                runtime: Mutex::new(Some(runtime)),
            }),
            Err(e) => {
                runtime.shutdown_timeout(Duration::from_secs(1));
                Err(e)
            }
        }
    }

    async fn start_on_runtime(config: NodeConfig) -> Result<(String, SocketAddr, Arc<Shared>)> {
        let (listener, udp) = transport::bind_pair(config.bind).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| ClusterError::io("cannot read the bound address", e))?;
        let name = config
            .node_name
            .clone()
            .unwrap_or_else(|| format!("{}:{}", host_name(), addr.port()));
        let local = NodeIdentity::new(name.clone(), addr, config.app_version.clone());
        let keys = ClusterKeys::derive(&config, PROTOCOL_VERSION);
        let faults = Faults::default();
        let view = View::new(local);
        let membership = Membership::start(
            view.snapshot().local.clone(),
            Datagrams::new(udp, keys.clone(), faults.clone()),
            view.clone(),
        );
        let is_member = Arc::new(AtomicBool::new(false));
        let greeter = greeter::Greeter {
            cluster_name: config.cluster_name.clone(),
            view: view.clone(),
            is_member: Arc::clone(&is_member),
        };
        tokio::spawn(transport::serve(listener, keys.clone(), Arc::new(greeter)));
        tracing::info!(node = %name, %addr, cluster = %config.cluster_name, app_version = %config.app_version, "node listening");
        let shared = Arc::new(Shared {
            config,
            keys,
            faults,
            view,
            membership,
            is_member,
        });
        join::join(&shared).await?;
        if !shared.config.seeds.is_empty() {
            tokio::spawn(join::watch_seeds(Arc::clone(&shared)));
        }
        Ok((name, addr, shared))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    fn ensure_open(&self) -> Result<()> {
        if self.runtime.lock().is_some() {
            Ok(())
        } else {
            Err(ClusterError::Closed(self.name.clone()))
        }
    }

    /// Live members, this node included, sorted by name.
    pub fn members(&self) -> Result<Vec<NodeIdentity>> {
        self.ensure_open()?;
        Ok(self.shared.view.live_members())
    }

    pub fn status(&self) -> Result<Status> {
        self.ensure_open()?;
        let snapshot = self.shared.view.snapshot();
        let mut members: Vec<(String, Liveness)> = snapshot
            .others
            .iter()
            .map(|m| (m.identity.name.clone(), m.liveness))
            .collect();
        members.push((snapshot.local.name.clone(), Liveness::Alive));
        // A name seen twice (a restart at another address) reports its liveliest entry.
        members.sort_by(|a, b| a.0.cmp(&b.0).then((a.1 as u8).cmp(&(b.1 as u8))));
        members.dedup_by(|later, first| later.0 == first.0);
        let role = if self.shared.is_member.load(Ordering::Acquire) {
            "MEMBER"
        } else {
            "JOINING"
        };
        Ok(Status {
            role,
            leader: None,
            term: 0,
            members,
        })
    }

    /// Switches for cutting this node's links in fault tests.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Leaves gracefully: the others are told at once, then the runtime stops. Idempotent.
    pub fn close(&self) {
        let Some(runtime) = self.runtime.lock().take() else {
            return;
        };
        let membership = self.shared.membership.clone();
        runtime.block_on(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), membership.leave()).await;
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        tracing::info!(node = %self.name, "node closed");
    }

    /// Stops at once without telling anyone, as a crash would: tests of failure detection use it.
    pub fn halt(&self) {
        if let Some(runtime) = self.runtime.lock().take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.close();
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".to_string())
}
