//! Drives foca: one task owns the `Foca` instance and handles, in order, datagrams, timer
//! events and requests from the node; one task delivers timers in deadline order (foca relies
//! on that order); one task reads the socket.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::{NonZeroU8, NonZeroUsize};
use std::time::Duration;

use foca::{AccumulatingRuntime, Foca, OwnedNotification, PeriodicParams, Timer};
use rand::rngs::StdRng;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::codec::BincodeCodec;
use super::view::{Liveness, MemberState, Snapshot};
use super::{NodeIdentity, View};
use crate::transport::Datagrams;

/// Tuned for a LAN of a few OpenMRS servers: a crashed node is suspected after one missed probe
/// cycle and declared down 600 ms later; docs/operations.md derives the bound from these.
pub fn swim_config() -> foca::Config {
    let mut config = foca::Config::simple();
    config.probe_period = Duration::from_millis(300);
    config.probe_rtt = Duration::from_millis(150);
    config.num_indirect_probes = NonZeroUsize::new(3).expect("non-zero constant");
    config.max_transmissions = NonZeroU8::new(10).expect("non-zero constant");
    config.suspect_to_down_after = Duration::from_millis(600);
    config.remove_down_after = Some(Duration::from_secs(30));
    config.notify_down_members = true;
    config.periodic_gossip = Some(PeriodicParams {
        frequency: Duration::from_millis(100),
        num_members: NonZeroUsize::new(3).expect("non-zero constant"),
    });
    config.periodic_announce = Some(PeriodicParams {
        frequency: Duration::from_secs(5),
        num_members: NonZeroUsize::new(1).expect("non-zero constant"),
    });
    // Lets two sides of a healed partition find each other again.
    config.periodic_announce_to_down_members = Some(PeriodicParams {
        frequency: Duration::from_secs(3),
        num_members: NonZeroUsize::new(2).expect("non-zero constant"),
    });
    config
}

enum Input {
    Data(Vec<u8>),
    Timer(Timer<NodeIdentity>),
    Announce(Vec<NodeIdentity>),
    Leave(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Membership {
    tx: mpsc::Sender<Input>,
    view: View,
}

type SwimFoca = Foca<NodeIdentity, BincodeCodec, StdRng, foca::NoCustomBroadcast>;

impl Membership {
    /// Starts the membership tasks on the current tokio runtime.
    pub fn start(local: NodeIdentity, datagrams: Datagrams, view: View) -> Membership {
        let (tx, rx) = mpsc::channel(1024);
        let (timer_tx, timer_rx) = mpsc::unbounded_channel();
        let foca = Foca::new(
            local,
            swim_config(),
            rand::make_rng::<StdRng>(),
            BincodeCodec,
        );
        tokio::spawn(deliver_timers(timer_rx, tx.clone()));
        tokio::spawn(read_socket(datagrams.clone(), tx.clone()));
        tokio::spawn(run(foca, rx, timer_tx, datagrams, view.clone()));
        Membership { tx, view }
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub async fn announce(&self, to: Vec<NodeIdentity>) {
        // Fails only when the node is closing, when there is no one left to tell.
        let _ = self.tx.send(Input::Announce(to)).await;
    }

    /// Tells the others this node leaves, and returns once the goodbye datagrams are sent.
    pub async fn leave(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Input::Leave(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn read_socket(datagrams: Datagrams, tx: mpsc::Sender<Input>) {
    while let Ok((_, payload)) = datagrams.recv().await {
        if tx.send(Input::Data(payload)).await.is_err() {
            return;
        }
    }
}

async fn deliver_timers(
    mut rx: mpsc::UnboundedReceiver<(Instant, Timer<NodeIdentity>)>,
    tx: mpsc::Sender<Input>,
) {
    let mut queue: BinaryHeap<Reverse<(Instant, Timer<NodeIdentity>)>> = BinaryHeap::new();
    loop {
        let next = queue.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            scheduled = rx.recv() => match scheduled {
                Some(entry) => queue.push(Reverse(entry)),
                None => return,
            },
            _ = tokio::time::sleep_until(next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if next.is_some() => {
                while let Some(Reverse((at, _))) = queue.peek() {
                    if *at > Instant::now() {
                        break;
                    }
                    let Some(Reverse((_, timer))) = queue.pop() else { break };
                    if tx.send(Input::Timer(timer)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

async fn run(
    mut foca: SwimFoca,
    mut rx: mpsc::Receiver<Input>,
    timers: mpsc::UnboundedSender<(Instant, Timer<NodeIdentity>)>,
    datagrams: Datagrams,
    view: View,
) {
    let mut runtime = AccumulatingRuntime::new();
    let mut leaving = None;
    while let Some(input) = rx.recv().await {
        let result = match input {
            Input::Data(data) => foca.handle_data(&data, &mut runtime),
            Input::Timer(timer) => foca.handle_timer(timer, &mut runtime),
            Input::Announce(to) => to
                .into_iter()
                .try_for_each(|member| foca.announce(member, &mut runtime)),
            Input::Leave(done) => {
                leaving = Some(done);
                foca.leave_cluster(&mut runtime)
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "membership input ignored");
        }
        while let Some((to, data)) = runtime.to_send() {
            datagrams.send(to.addr, &data).await;
        }
        let now = Instant::now();
        while let Some((delay, timer)) = runtime.to_schedule() {
            let _ = timers.send((now + delay, timer));
        }
        while let Some(notification) = runtime.to_notify() {
            // Leaving makes foca declare this node down itself: expected, not news.
            if leaving.is_none() {
                log_notification(&notification);
            }
        }
        publish(&foca, &view);
        if let Some(done) = leaving.take() {
            let _ = done.send(());
            return;
        }
    }
}

fn publish(foca: &SwimFoca, view: &View) {
    let others: Vec<MemberState> = foca
        .iter_membership_state()
        .map(|m| MemberState {
            identity: m.id().clone(),
            liveness: match m.state() {
                foca::State::Alive => Liveness::Alive,
                foca::State::Suspect => Liveness::Suspect,
                foca::State::Down => Liveness::Down,
            },
        })
        .collect();
    let current = view.snapshot();
    if current.others != others || current.local != *foca.identity() {
        view.publish(Snapshot {
            local: foca.identity().clone(),
            others,
        });
    }
}

fn log_notification(notification: &OwnedNotification<NodeIdentity>) {
    match notification {
        OwnedNotification::MemberUp(id) => {
            tracing::info!(member = %id.name, addr = %id.addr, "member joined")
        }
        OwnedNotification::MemberDown(id) => {
            tracing::warn!(member = %id.name, addr = %id.addr, "member is down or left")
        }
        OwnedNotification::Rename(old, new) => {
            tracing::info!(old = ?old, new = ?new, "member came back under a newer incarnation")
        }
        OwnedNotification::Defunct => {
            tracing::warn!("the cluster declared this node down; rejoining under a new incarnation")
        }
        OwnedNotification::Rejoin(id) => tracing::info!(identity = ?id, "rejoined the cluster"),
        OwnedNotification::Idle => tracing::info!("no other live member is known"),
        other => tracing::debug!(notification = ?other, "membership notification"),
    }
}
