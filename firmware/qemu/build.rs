//! Puts the memory.x of the QEMU machine that the target runs on where the linker
//! finds it: thumbv7em-none-eabihf -> mps2-an386, thumbv7m-none-eabi -> lm3s6965evb,
//! thumbv6m-none-eabi -> microbit.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let machine = match target.as_str() {
        "thumbv7em-none-eabihf" => "mps2-an386",
        "thumbv7m-none-eabi" => "lm3s6965evb",
        "thumbv6m-none-eabi" => "microbit",
        other => {
            eprintln!(
                "error: no QEMU machine for target `{other}` (use thumbv7em-none-eabihf, \
                 thumbv7m-none-eabi or thumbv6m-none-eabi)"
            );
            std::process::exit(1);
        }
    };
    let src = PathBuf::from(format!("memory/{machine}.x"));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::copy(&src, out.join("memory.x")) {
        eprintln!("error: copying {} to {}: {e}", src.display(), out.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory/{machine}.x");
    println!("cargo:rerun-if-changed=build.rs");
}
