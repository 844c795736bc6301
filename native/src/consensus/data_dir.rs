//! `cluster.data.dir`: a directory only the server's own user may enter, holding files only it
//! may read. The journal holds queue items in plain text (patient data, HL7 messages), so the
//! directory is created 0700 and every file in it 0600, whatever the process umask; an existing
//! directory that others may enter is used, with a warning naming it and its mode.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its missing parents) 0700, or warns when it exists and is open to others.
pub fn prepare(dir: &Path) -> std::io::Result<()> {
    match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & !DIR_MODE != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = format!("{mode:04o}"),
                    "cluster.data.dir can be entered by other users of this machine, and its files hold queue items; chmod 700 it"
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir),
        Err(e) => Err(e),
    }
}

/// Opens `path` for appending, created 0600 if new; an older file is made 0600 too.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Runs a write that ends in an fsync. A node's runtime has a single worker, which also runs
/// Raft's heartbeats and every connection: a slow disk must hold up only the caller.
pub fn blocking<T>(write: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    tokio::task::block_in_place(write)
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    blocking(|| {
        let tmp = path.with_extension("tmp");
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        // A temporary file left by an older version may be looser; it is rewritten here.
        file.set_permissions(Permissions::from_mode(FILE_MODE))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_private_whatever_they_were() {
        let root = std::env::temp_dir().join(format!("omc-dir-{}", rand::random::<u64>()));
        let dir = root.join("a").join("b");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.join("a")), 0o700);
        let old = dir.join("old.bin");
        fs::write(&old, b"x").unwrap();
        fs::set_permissions(&old, Permissions::from_mode(0o644)).unwrap();
        open_append(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        let tmp = dir.join("value.tmp");
        fs::write(&tmp, b"stale").unwrap();
        fs::set_permissions(&tmp, Permissions::from_mode(0o666)).unwrap();
        tokio::runtime::Builder::new_multi_thread()
            .build()
            .unwrap()
            .block_on(async { write_atomically(&dir.join("value.bin"), b"new") })
            .unwrap();
        assert_eq!(mode(&dir.join("value.bin")), 0o600);
        fs::remove_dir_all(&root).unwrap();
    }
}
