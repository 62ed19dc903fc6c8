//! Checkpoints on QEMU (`flash=PATH`): at boot, the emulated flash
//! ([`file_flash`](crate::file_flash)) is loaded from its host file, damaged slots are
//! reported and the newest complete checkpoint is restored; the simulated stream is
//! then fast-forwarded to the window after the checkpoint's last training step, and
//! a checkpoint is saved after every `checkpoint_every`-th training step. A run
//! stopped anywhere and started again on the same file ends with the same weights as
//! a run that was never stopped.

use crate::file_flash::{FileFlash, LoadError, Mem, PAGE_SIZE, REGION, WRITE_SIZE};
use crate::model::Plan;
use crate::options::Options;
use crate::{drive, Outcome};
use defmt::{error, info, warn};
use embedded_storage::nor_flash::NorFlash;
use microtrain_checkpoint::{scratch_len, Checkpointer, RestoreError, SlotState};
use microtrain_stream::model::{LAYERS, OPTIMIZER};
use microtrain_stream::scenario::resume_window;
use microtrain_stream::sim::FULL_SCALE_G;
use microtrain_stream::{App, Config, Learner};

/// Floats of the restore's scratch buffer (on the stack during the restore only).
const SCRATCH: usize = scratch_len(&LAYERS, OPTIMIZER.state_per_param());

/// Stack a run with checkpoints needs, with a margin: the emulated flash and the
/// restore's scratch are on the stack (measured peak: 11.5 KB on the Cortex-M0).
const STACK_NEEDED: usize = REGION + 4 * SCRATCH + 3072;

/// The run with checkpoints in the flash image `path`. Never inlined: the emulated
/// flash lives in this function's stack frame, which runs without `flash=` never
/// have.
#[inline(never)]
pub fn run(path: &str, opts: &Options<'_>, mut learner: Learner<'_, Plan>) -> Outcome {
    let stack = crate::stack::size() as usize;
    if stack < STACK_NEEDED {
        error!(
            "flash= needs {=usize} bytes of stack, this machine has {=usize}",
            STACK_NEEDED, stack
        );
        return Outcome::Fail;
    }
    let mut mem = Mem::new();
    let (mut flash, created) = match FileFlash::open(path, &mut mem) {
        Ok(f) => f,
        Err(LoadError::Size { found }) => {
            error!(
                "flash file {=str} has {=usize} bytes, not {=usize}: not this firmware's flash image (left as it is)",
                path, found, REGION
            );
            return Outcome::Fail;
        }
        Err(LoadError::File(e)) => {
            error!("flash file {=str}: {}", path, e);
            return Outcome::Fail;
        }
    };
    info!(
        "flash {=str}{=str}: {=usize} bytes, {=usize}-byte writes, {=usize}-byte pages; checkpoint every {=u32} steps",
        path,
        if created { " (new, erased)" } else { "" },
        REGION,
        WRITE_SIZE,
        PAGE_SIZE,
        opts.checkpoint_every
    );
    let mut ckpt = match Checkpointer::new(&mut flash, 0, REGION as u32) {
        Ok(c) => c,
        Err(e) => {
            error!("checkpoint region: {}", e);
            return Outcome::Fail;
        }
    };
    let Some(start) = restore(&mut ckpt, &mut learner, &opts.cfg) else {
        return Outcome::Fail;
    };
    resume(opts, learner, start, &mut ckpt)
}

/// The run from window `start`, saving every `checkpoint_every` steps. Not inlined
/// into [`run`], so its frame (the app, the stream) and [`restore`]'s scratch are
/// never on the stack at the same time.
#[inline(never)]
fn resume<F: NorFlash>(
    opts: &Options<'_>,
    learner: Learner<'_, Plan>,
    start: u32,
    ckpt: &mut Checkpointer<F>,
) -> Outcome
where
    F::Error: defmt::Format,
{
    let every = opts.checkpoint_every;
    drive(opts, App::new(learner, FULL_SCALE_G), start, |app| {
        let learner = app.learner();
        if learner.steps() % every != 0 {
            return true;
        }
        match ckpt.save(learner.trainer()) {
            Ok(i) => {
                info!(
                    "checkpoint saved: sequence {=u32}, step {=u32} (slot {=u8})",
                    i.sequence, i.step, i.slot
                );
                true
            }
            Err(e) => {
                error!("checkpoint save failed: {}", e);
                false
            }
        }
    })
}

/// Reports damaged slots and restores the newest checkpoint; returns the window to
/// resume at (0 without a usable checkpoint), `None` if the flash cannot be read.
#[inline(never)]
fn restore<F: NorFlash>(
    ckpt: &mut Checkpointer<F>,
    learner: &mut Learner<'_, Plan>,
    cfg: &Config,
) -> Option<u32>
where
    F::Error: defmt::Format,
{
    match ckpt.slots() {
        Ok(slots) => {
            for (slot, s) in slots.iter().enumerate() {
                if *s == SlotState::Damaged {
                    warn!(
                        "flash slot {=usize}: damaged checkpoint (corrupted, or a save cut short), ignored",
                        slot
                    );
                }
            }
        }
        Err(e) => {
            error!("reading the flash: {}", e);
            return None;
        }
    }
    let mut scratch = [0.0f32; SCRATCH];
    match ckpt.restore(learner.trainer_mut(), &mut scratch) {
        Ok(info) => {
            let window = resume_window(cfg, info.step);
            info!(
                "restored checkpoint: sequence {=u32}, step {=u32} (slot {=u8}); resuming at window {=u32}",
                info.sequence, info.step, info.slot, window
            );
            Some(window)
        }
        Err(RestoreError::NoCheckpoint) => {
            info!("no checkpoint");
            Some(0)
        }
        Err(e) => {
            warn!("checkpoint not restored ({}): starting fresh", e);
            Some(0)
        }
    }
}
