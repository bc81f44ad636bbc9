//! Finds `libevent_core` and links the crate against it.
//!
//! The directory comes from `GOEVENT_LIB_DIR`, else the repository's
//! `build/lib` (made by `make lib`) when this crate sits in the repository
//! and it holds the library, else pkg-config's `libevent_core`, else the
//! linker's default search path. Point `GOEVENT_LIB_DIR` at
//! `/usr/lib/x86_64-linux-gnu` to use the system's libevent.
//!
//! Only `-levent_core` is linked: whatever that library loads itself at run
//! time (goevent's engine, found beside it) needs nothing here. The
//! directory is passed on to dependents as `DEP_EVENT_CORE_LIB_DIR` (this
//! crate `links = "event_core"`), so that their tests can put it in their
//! run path.
//!
//! The linker is pointed at `$OUT_DIR/lib`, a symbolic link to that
//! directory: cargo adds link directories inside the target directory to
//! the library path of what it runs (`cargo test`, `cargo run`), so doc
//! tests, which get no run path, load this library too and not another
//! libevent_core-2.1.so.7 the system may have. Through the link the
//! directory keeps its other files (an engine library beside the core).

use std::env;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

const LINK_NAME: &str = "libevent_core.so";

fn pkg_config_dir() -> Option<PathBuf> {
    let out = Command::new("pkg-config")
        .args(["--variable=libdir", "libevent_core"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.join(LINK_NAME).exists().then_some(dir)
}

fn repository_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    // <repo>/bindings/rust/goevent-sys
    let repo = manifest.ancestors().nth(3)?;
    if !repo.join("include/event2/event.h").is_file() {
        return None;
    }
    let dir = repo.join("build/lib");
    println!("cargo:rerun-if-changed={}", dir.join(LINK_NAME).display());
    dir.join(LINK_NAME).exists().then_some(dir)
}

/// `$OUT_DIR/lib`, a symbolic link to `dir` (or `dir` itself should the
/// link fail).
fn link_dir(dir: &Path) -> PathBuf {
    let Some(out) = env::var_os("OUT_DIR") else {
        return dir.to_path_buf();
    };
    let link = PathBuf::from(out).join("lib");
    let _ = fs::remove_file(&link);
    match symlink(dir, &link) {
        Ok(()) => link,
        Err(_) => dir.to_path_buf(),
    }
}

fn absolute(dir: PathBuf) -> PathBuf {
    // An absolute, clean path: dependents write it into run paths.
    dir.canonicalize().unwrap_or(dir)
}

fn main() {
    println!("cargo:rerun-if-env-changed=GOEVENT_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let dir = match env::var_os("GOEVENT_LIB_DIR") {
        Some(dir) => {
            let dir = absolute(PathBuf::from(dir));
            if !dir.join(LINK_NAME).exists() {
                println!(
                    "cargo:warning=GOEVENT_LIB_DIR={} has no {LINK_NAME}",
                    dir.display()
                );
            }
            Some(dir)
        }
        None => repository_dir().or_else(pkg_config_dir).map(absolute),
    };
    match &dir {
        Some(dir) => {
            println!("cargo:rustc-link-search=native={}", link_dir(dir).display());
            println!("cargo:rerun-if-changed={}", dir.join(LINK_NAME).display());
            println!("cargo:lib_dir={}", dir.display());
        }
        None => println!(
            "cargo:warning=no {LINK_NAME} found (run `make lib`, or set GOEVENT_LIB_DIR); \
             relying on the linker's default path"
        ),
    }
    println!("cargo:rustc-link-lib=dylib=event_core");
}
