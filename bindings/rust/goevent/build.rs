//! Puts the directory goevent-sys linked `libevent_core` from into the run
//! path of this crate's tests, so that they load that library
//! without `LD_LIBRARY_PATH`. (Programs using the crate choose their own
//! way to find the library at run time: installed, a run path, or
//! `LD_LIBRARY_PATH`.)

use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_EVENT_CORE_LIB_DIR");
    if let Some(dir) = env::var_os("DEP_EVENT_CORE_LIB_DIR") {
        let dir = dir.to_string_lossy();
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
        // For tests/library.rs, which checks that this is what got loaded.
        println!("cargo:rustc-env=GOEVENT_LINKED_LIB_DIR={dir}");
    }
}
