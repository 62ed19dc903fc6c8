//! Host and device agree bit for bit: `microtrain-sim stream` and the QEMU firmware
//! (firmware/qemu) run the same seeded stream and must print the same final weights
//! checksum and the same accuracies. The firmware is built here and run on QEMU's
//! Cortex-M4F (hardware FPU) and Cortex-M0 (software floating point).
//!
//! Needs `qemu-system-arm`, `defmt-print` and the thumb targets (firmware/run-tests
//! installs them all); without them the test fails saying what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware/qemu")
}

fn require_tool(tool: &str, version_arg: &str) {
    let found = Command::new(tool)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed (or not on PATH): this test runs the firmware under QEMU and decodes \
         its defmt log. Run firmware/run-tests once (it installs qemu-system-arm with apt-get and \
         defmt-print with cargo install), or install them by hand."
    );
}

/// Builds the QEMU firmware for `target`; returns the ELF path.
fn build_firmware(target: &str) -> PathBuf {
    let dir = firmware_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .args(["build", "--release", "--target", target])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("cannot run cargo");
    assert!(
        out.status.success(),
        "building firmware/qemu for {target} failed (is the target installed? `rustup target add \
         {target}`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("target").join(target).join("release/microtrain-qemu")
}

/// The lines of a run that must agree: results, bad-data counts, checksum.
fn key_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start_matches("INFO").trim())
        .filter(|l| {
            l.starts_with("result ")
                || l.starts_with("bad readings:")
                || l.starts_with("checksum ")
                || l.starts_with("window ")
        })
        .map(str::to_string)
        .collect()
}

fn checksum(lines: &[String], who: &str, text: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("checksum "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{who} printed no `checksum 0x...` line:\n{text}"))
}

fn host_run(seed: u64, windows: u32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_microtrain-sim"))
        .args([
            "stream",
            "--seed",
            &seed.to_string(),
            "--windows",
            &windows.to_string(),
        ])
        .output()
        .expect("cannot run microtrain-sim");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "microtrain-sim stream --seed {seed} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn device_run(elf: &Path, seed: u64, windows: u32) -> String {
    let out = Command::new(firmware_dir().join("run-qemu"))
        .arg(elf)
        .args([format!("seed={seed}"), format!("windows={windows}")])
        .env("QEMU_TIMEOUT", "180")
        .output()
        .expect("cannot run firmware/qemu/run-qemu");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the firmware ({}) failed with {:?} (124 = timeout):\n{text}\n{}",
        elf.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn simulator_and_qemu_firmware_agree_bit_for_bit() {
    require_tool("qemu-system-arm", "--version");
    require_tool("defmt-print", "--version");
    let m4f = build_firmware("thumbv7em-none-eabihf");
    let m0 = build_firmware("thumbv6m-none-eabi");
    let mut seen = Vec::new();
    for (elf, seed, windows) in [(&m4f, 42, 600), (&m4f, 7, 400), (&m0, 7, 400)] {
        let host = host_run(seed, windows);
        let device = device_run(elf, seed, windows);
        let (h, d) = (key_lines(&host), key_lines(&device));
        let (hc, dc) = (
            checksum(&h, "the simulator", &host),
            checksum(&d, "the firmware", &device),
        );
        assert_eq!(
            hc,
            dc,
            "seed {seed}: the simulator's final weights checksum differs from the firmware's on {}",
            elf.display()
        );
        assert_eq!(
            h, d,
            "seed {seed}: the simulator and the firmware logged different metrics"
        );
        seen.push(hc);
    }
    // Different seeds give different weights: the comparison is not vacuous.
    assert_ne!(seen[0], seen[1]);
}
