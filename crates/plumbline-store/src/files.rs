//! Files only the service can read: the database and its `-wal` and `-shm` (SQLite gives
//! them the database file's mode), releases, exports and their temporary files are
//! created 0600 in directories created 0700, whatever the umask allows. An existing
//! file or directory keeps the mode its owner gave it.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Mode of the files Plumbline creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the directories Plumbline creates.
pub const DIR_MODE: u32 = 0o700;

fn options() -> OpenOptions {
    let mut open = OpenOptions::new();
    open.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, FILE_MODE);
    open
}

/// Creates (or truncates) `path` for writing, 0600 when new.
pub fn create(path: &Path) -> io::Result<File> {
    options().create(true).truncate(true).open(path)
}

/// Creates `path` for writing, 0600; an existing file is an error.
pub fn create_new(path: &Path) -> io::Result<File> {
    options().create_new(true).open(path)
}

/// Writes `bytes` to `path` (see [`create`]).
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    io::Write::write_all(&mut create(path)?, bytes.as_ref())
}

/// Creates `dir` and its missing parents, each new one 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// Opens `path` for appending, creating it 0600 when new.
pub fn append(path: &Path) -> io::Result<File> {
    options().append(true).create(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn new_files_and_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = std::env::temp_dir().join(format!("plumbline-files-{}", std::process::id()));
        let dir = root.join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&root), DIR_MODE);
        assert_eq!(mode(&dir), DIR_MODE);
        write(&dir.join("f"), "x").unwrap();
        assert_eq!(mode(&dir.join("f")), FILE_MODE);
        assert!(create_new(&dir.join("f")).is_err());
        create_new(&dir.join("g")).unwrap();
        assert_eq!(mode(&dir.join("g")), FILE_MODE);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
