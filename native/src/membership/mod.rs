//! Who is alive: SWIM (foca) over sealed UDP datagrams, and the view of members it keeps.

pub(crate) mod codec;
mod identity;
pub mod peers;
mod swim;
mod view;

pub use identity::NodeIdentity;
pub use swim::{swim_config, Membership};
pub use view::{Liveness, MemberState, Snapshot, View};
