//! Helpers for the tests of the file readers: gzip in memory and temporary
//! folders that remove themselves.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;

/// `bytes`, gzip-compressed.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A fresh folder under the system's temporary folder, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A new empty folder whose name contains `tag`, the process id and a
    /// counter, so that tests running in parallel never share one.
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("staticnet-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to the file `name` in the folder and returns its path.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_distinct_and_removed() {
        let a = TempDir::new("helper");
        let b = TempDir::new("helper");
        assert_ne!(a.path(), b.path());
        let file = a.write("x.bin", b"abc");
        assert_eq!(std::fs::read(&file).unwrap(), b"abc");
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(!kept.exists());
    }

    #[test]
    fn gzip_starts_with_the_magic() {
        assert_eq!(gzip(b"abc")[..2], [0x1f, 0x8b]);
    }
}
