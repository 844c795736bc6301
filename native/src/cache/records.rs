//! Writes grouped for the wire: each cache name once per frame, records pointing at it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::store::Record;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordSet {
    pub names: Vec<String>,
    pub records: Vec<(u32, Record)>,
}

impl RecordSet {
    pub fn new(items: impl IntoIterator<Item = (Arc<str>, Record)>) -> RecordSet {
        let mut set = RecordSet::default();
        let mut index: HashMap<Arc<str>, u32> = HashMap::new();
        for (name, record) in items {
            let i = *index.entry(Arc::clone(&name)).or_insert_with(|| {
                set.names.push(name.to_string());
                (set.names.len() - 1) as u32
            });
            set.records.push((i, record));
        }
        set
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Each record with its cache's name; a record naming no cache of the set is a peer's bug
    /// and is skipped with a warning rather than failing the rest.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Record)> {
        self.records.iter().filter_map(|(i, record)| {
            let name = self.names.get(*i as usize);
            if name.is_none() {
                tracing::warn!(
                    index = i,
                    "cache: a record names no cache of its frame; skipped"
                );
            }
            name.map(|n| (n.as_str(), record))
        })
    }
}

/// The bytes a record weighs in a batch, near enough to keep batches under their bound.
pub fn weight(record: &Record) -> usize {
    use super::store::Change;
    let value = match &record.change {
        Change::Put { value, .. } => value.len(),
        _ => 0,
    };
    record.key.len() + value + 32
}
