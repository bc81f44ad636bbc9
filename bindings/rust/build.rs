//! Links the crate against goevent's `libevent_core`.
//!
//! `GOEVENT_LIB_DIR` names the directory holding `libevent_core.so`
//! (default: the repository's `build/lib`, made by `make lib`). Point it at
//! `/usr/lib/x86_64-linux-gnu` to test against the system's libevent. The
//! directory is also written into the test and example binaries' run path,
//! so they load that library without `LD_LIBRARY_PATH`.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=GOEVENT_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let dir = match env::var_os("GOEVENT_LIB_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let manifest =
                env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
            PathBuf::from(manifest).join("../../build/lib")
        }
    };
    // An absolute, clean path: it ends up in the binaries' run path.
    let dir = dir.canonicalize().unwrap_or(dir);
    if !dir.join("libevent_core.so").exists() {
        println!(
            "cargo:warning=no libevent_core.so in {} (run `make lib`, or set GOEVENT_LIB_DIR)",
            dir.display()
        );
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=event_core");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    // Relink when the library changes.
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("libevent_core.so").display()
    );
}
