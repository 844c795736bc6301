//! A node's Raft identity. With a data directory it survives restarts (the node rejoins as
//! itself, with its vote and log); without one, every start is a new identity, so a node never
//! forgets a vote it cast under an identity it keeps.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::journal;
use super::types::NodeId;

const FILE: &str = "node-identity.bin";

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct DurableIdentity {
    pub id: NodeId,
    /// The consensus group this node belongs to (the founder's id), once known.
    pub group: Option<NodeId>,
}

fn fresh_id() -> NodeId {
    loop {
        let id: u64 = rand::random();
        if id != 0 {
            return id;
        }
    }
}

impl DurableIdentity {
    pub fn load_or_create(dir: Option<&Path>) -> std::io::Result<DurableIdentity> {
        let Some(dir) = dir else {
            return Ok(DurableIdentity {
                id: fresh_id(),
                group: None,
            });
        };
        super::data_dir::prepare(dir)?;
        if let Some(found) = journal::read_value(&dir.join(FILE))? {
            return Ok(found);
        }
        let created = DurableIdentity {
            id: fresh_id(),
            group: None,
        };
        journal::write_value(&dir.join(FILE), &created)?;
        Ok(created)
    }

    pub fn save(&self, dir: Option<&Path>) -> std::io::Result<()> {
        match dir {
            Some(dir) => journal::write_value(&dir.join(FILE), self),
            None => Ok(()),
        }
    }
}
