//! The linker finds `memory.x` in this folder before the HAL's copy (the linker runs
//! here); this only relinks when it changes.

fn main() {
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
