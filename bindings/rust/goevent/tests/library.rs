//! The tests run against the library goevent-sys linked, not another
//! libevent_core-2.1.so.7 the system may have.

use std::path::{Path, PathBuf};

use goevent::{EvBuffer, EventBase};

/// Directories of the libevent / goevent files mapped into this process.
fn mapped_dirs() -> Vec<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut dirs: Vec<PathBuf> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .map(Path::new)
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("libevent") || name.starts_with("libgoevent_engine")
        })
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

#[test]
fn the_linked_library_is_the_loaded_one() {
    let Some(dir) = option_env!("GOEVENT_LINKED_LIB_DIR") else {
        panic!("goevent-sys found no library directory to link from");
    };
    // Exercise the library, so that anything it loads lazily is mapped.
    let base = EventBase::new().unwrap();
    let mut buf = EvBuffer::new().unwrap();
    buf.add(b"x").unwrap();
    drop(base);
    let want = Path::new(dir).canonicalize().unwrap();
    assert_eq!(mapped_dirs(), [want]);
    assert_eq!(goevent::version(), "2.1.12-stable");
}
