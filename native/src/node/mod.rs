//! A node: its tokio runtime, its sockets, its membership and consensus, and the lifecycle a
//! `Cluster` on the Java side drives (start, query, lock, close).

mod cache;
mod dispatch;
mod events;
mod join;
mod locks;
mod pending;
mod queues;
mod schedules;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::OnceCell;
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Runtime;

use crate::cache::Caches;
use crate::config::NodeConfig;
use crate::consensus::{Consensus, ConsensusConfig, DurableIdentity};
use crate::crypto::ClusterKeys;
use crate::error::{ClusterError, Result};
use crate::events::Events;
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
    is_member: AtomicBool,
    consensus: OnceCell<Arc<Consensus>>,
    events: Arc<Events>,
    caches: Arc<Caches>,
}

pub struct Node {
    name: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    consensus: Arc<Consensus>,
    /// Held shared by every call that runs on the runtime, exclusively by `close`.
    runtime: RwLock<Option<Runtime>>,
    recent_grants: Mutex<HashMap<(String, u64), RecentGrant>>,
    pending: Arc<pending::Pending>,
}

/// A lock grant this node received before its replica applied it, keyed by (lock, thread):
/// (session, fence, index of the log entry that granted it).
type RecentGrant = (u64, u64, u64);

/// The node's place in the cluster, as `Cluster.status()` reports it.
#[derive(Debug, Clone)]
pub struct Status {
    pub role: &'static str,
    pub leader: Option<String>,
    pub term: u64,
    pub members: Vec<(String, Liveness)>,
}

impl Node {
    /// Starts a node and returns once it is a member of the cluster and of its consensus group,
    /// with its lock session open; or fails after the join timeout. Must not be called from
    /// inside a tokio runtime: it blocks.
    pub fn start(config: NodeConfig) -> Result<Node> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // One worker: a Raft commit crosses several tasks (caller, Raft core, replication,
            // connections); on one thread they hand over without waking another. Blocking
            // disk writes leave the worker first (consensus::journal).
            .worker_threads(1)
            .thread_name("openmrs-cluster")
            .enable_all()
            .build()
            .map_err(|e| ClusterError::io("cannot start the node's runtime", e))?;
        match runtime.block_on(Self::start_on_runtime(config)) {
            Ok((name, addr, shared, consensus)) => Ok(Node {
                name,
                addr,
                shared,
                consensus,
                runtime: RwLock::new(Some(runtime)),
                recent_grants: Mutex::new(HashMap::new()),
                pending: Arc::default(),
            }),
            Err(e) => {
                runtime.shutdown_timeout(Duration::from_secs(1));
                Err(e)
            }
        }
    }

    async fn start_on_runtime(
        config: NodeConfig,
    ) -> Result<(String, SocketAddr, Arc<Shared>, Arc<Consensus>)> {
        let deadline = tokio::time::Instant::now() + config.join_timeout;
        let data_dir = config.data_dir.clone();
        let durable = DurableIdentity::load_or_create(data_dir.as_deref()).map_err(|e| {
            ClusterError::io(
                "cluster.data.dir: cannot keep this node's identity there",
                e,
            )
        })?;
        let (listener, udp) = transport::bind_pair(config.bind).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| ClusterError::io("cannot read the bound address", e))?;
        let name = config
            .node_name
            .clone()
            .unwrap_or_else(|| format!("{}:{}", host_name(), addr.port()));
        let local = NodeIdentity::new(name.clone(), addr, config.app_version.clone(), durable.id);
        let keys = ClusterKeys::derive(
            config.secret.as_ref(),
            &config.cluster_name,
            &config.app_version,
            PROTOCOL_VERSION,
        )
        .introducing(&name);
        let faults = Faults::default();
        let view = View::new(local);
        let membership = Membership::start(
            view.snapshot().local.clone(),
            Datagrams::new(udp, keys.clone(), faults.clone()),
            view.clone(),
        );
        let events = Events::start(name.clone(), view.clone(), keys.clone(), faults.clone());
        let caches = Caches::start(
            name.clone(),
            durable.id,
            view.clone(),
            keys.clone(),
            faults.clone(),
        );
        let shared = Arc::new(Shared {
            config,
            keys,
            faults,
            view,
            membership,
            is_member: AtomicBool::new(false),
            consensus: OnceCell::new(),
            events,
            caches,
        });
        let dispatcher = dispatch::Dispatcher {
            shared: Arc::clone(&shared),
        };
        tokio::spawn(transport::serve(
            listener,
            shared.keys.clone(),
            Arc::new(dispatcher),
        ));
        tracing::info!(node = %name, %addr, cluster = %shared.config.cluster_name, app_version = %shared.config.app_version, "node listening");

        let group = match join::join(&shared).await? {
            join::Joined::Formed => durable.group.unwrap_or(durable.id),
            join::Joined::Through { group } => group,
        };
        if durable.group.is_some_and(|g| g != group) {
            return Err(ClusterError::Refused(format!(
                "cluster.data.dir holds the state of another cluster (consensus group {:x}, this cluster's is {group:x}); \
                 give this node an empty data directory",
                durable.group.unwrap_or_default()
            )));
        }
        DurableIdentity {
            group: Some(group),
            ..durable
        }
        .save(data_dir.as_deref())
        .map_err(|e| {
            ClusterError::io(
                "cluster.data.dir: cannot keep this node's identity there",
                e,
            )
        })?;
        let consensus = Consensus::start(
            ConsensusConfig {
                cluster_name: shared.config.cluster_name.clone(),
                node_name: name.clone(),
                addr,
                id: durable.id,
                group,
                voters: shared.config.raft_voters,
                data_dir,
                session: rand::random(),
                panic_timeout: shared.config.panic_timeout,
            },
            shared.keys.clone(),
            shared.faults.clone(),
            shared.view.clone(),
        )
        .await?;
        // Set once, before anyone can see this node as a member.
        let _ = shared.consensus.set(Arc::clone(&consensus));
        consensus.spawn_background();
        consensus.open_session(deadline).await?;
        shared.is_member.store(true, Ordering::Release);
        tokio::spawn(Arc::clone(&shared.caches).catch_up());
        if !shared.config.seeds.is_empty() {
            tokio::spawn(join::watch_seeds(Arc::clone(&shared)));
        }
        Ok((name, addr, shared, consensus))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `work` on the node's runtime; fails if the node is closed.
    fn run<T>(&self, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let runtime = self.runtime.read();
        match runtime.as_ref() {
            Some(rt) => rt.block_on(work),
            None => Err(ClusterError::Closed(self.name.clone())),
        }
    }

    fn ensure_open(&self) -> Result<()> {
        if self.runtime.read().is_some() {
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
        let (leader, term, role) = self.consensus.role();
        Ok(Status {
            role,
            leader,
            term,
            members,
        })
    }

    /// Waits up to `timeout` for this node to panic; the reason if it has.
    pub fn panic_wait(&self, timeout: Duration) -> Option<String> {
        self.consensus.panic.wait(timeout)
    }

    /// Local: whether this node's lease is valid (it was in contact with a majority within the
    /// lease) and it has not panicked; what it serves from a cache of its own may then be current.
    pub fn lease_valid(&self) -> bool {
        self.consensus.lease_valid()
    }

    /// Switches for cutting this node's links in fault tests.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Leaves gracefully: the lock session ends and the others are told at once, then the
    /// runtime stops. Idempotent.
    pub fn close(&self) {
        self.shared.events.close();
        self.shared.caches.close();
        self.consensus
            .waiters
            .fail_all(&format!("node '{}' is closed", self.name));
        let Some(runtime) = self.runtime.write().take() else {
            return;
        };
        let consensus = Arc::clone(&self.consensus);
        let membership = self.shared.membership.clone();
        // Membership first: once the others see this node gone, the leader will not take it
        // back into the consensus group while it leaves.
        runtime.block_on(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), membership.leave()).await;
            let _ = tokio::time::timeout(Duration::from_secs(3), consensus.leave()).await;
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        tracing::info!(node = %self.name, "node closed");
    }

    /// Stops at once without telling anyone, as a crash would: tests of failure detection use it.
    pub fn halt(&self) {
        self.shared.events.close();
        self.shared.caches.close();
        self.consensus
            .waiters
            .fail_all(&format!("node '{}' is halted", self.name));
        if let Some(runtime) = self.runtime.write().take() {
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
