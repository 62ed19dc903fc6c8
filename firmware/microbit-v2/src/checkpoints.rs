//! Checkpoints in the nRF52833's own flash: the last two 4 KiB pages, kept out of the
//! program by `memory.x` (`CHECKPOINTS`), written through the HAL's NVMC driver
//! (4-byte writes, 4 KiB page erases). One checkpoint slot per page; saves alternate,
//! so a reset or a power cut during a save leaves the previous checkpoint intact
//! (see `microtrain-checkpoint`).

use crate::model::Plan;
use defmt::{error, info, warn};
use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use microbit::hal::nvmc::Nvmc;
use microbit::pac::NVMC;
use microtrain_checkpoint::{region_len, scratch_len, Checkpointer, RestoreError, SlotState};
use microtrain_stream::model::{LAYERS, OPTIMIZER};
use microtrain_stream::Learner;

/// Bytes of one flash page (the NVMC's erase unit).
const PAGE: usize = 4096;
/// Bytes the checkpoints need: two slots of whole pages.
pub const REGION: usize = region_len(&LAYERS, OPTIMIZER.state_per_param(), 4, PAGE);
/// Floats of the restore's scratch buffer.
const SCRATCH: usize = scratch_len(&LAYERS, OPTIMIZER.state_per_param());

extern "C" {
    // From memory.x: the pages kept for checkpoints.
    static mut _checkpoints_start: u8;
    static _checkpoints_end: u8;
}

/// The NVMC over the checkpoint pages, with its errors as the `embedded-storage`
/// error kinds (which can be logged).
pub struct Flash(Nvmc<NVMC>);

impl ErrorType for Flash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for Flash {
    const READ_SIZE: usize = <Nvmc<NVMC> as ReadNorFlash>::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, bytes).map_err(|e| e.kind())
    }

    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl NorFlash for Flash {
    const WRITE_SIZE: usize = <Nvmc<NVMC> as NorFlash>::WRITE_SIZE;
    const ERASE_SIZE: usize = <Nvmc<NVMC> as NorFlash>::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to).map_err(|e| e.kind())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes).map_err(|e| e.kind())
    }
}

/// The checkpointer over the reserved pages; `None` (logged) if `memory.x` did not
/// reserve page-aligned room for [`REGION`] bytes. Call once: it hands out the pages
/// as a `&'static mut` slice.
pub fn open(nvmc: NVMC) -> Option<Checkpointer<Flash>> {
    let start = core::ptr::addr_of_mut!(_checkpoints_start);
    let end = core::ptr::addr_of!(_checkpoints_end) as usize;
    let len = end.saturating_sub(start as usize);
    if !(start as usize).is_multiple_of(PAGE) || !len.is_multiple_of(PAGE) || len < REGION {
        error!(
            "checkpoint pages at {=usize:#x}, {=usize} bytes: need {=usize} page-aligned bytes",
            start as usize, len, REGION
        );
        return None;
    }
    // SAFETY: memory.x keeps these pages out of the program and its data, and `open`
    // is called once, so nothing else refers to them.
    let pages: &'static mut [u8] = unsafe { core::slice::from_raw_parts_mut(start, len) };
    match Checkpointer::new(Flash(Nvmc::new(nvmc, pages)), 0, REGION as u32) {
        Ok(c) => Some(c),
        Err(e) => {
            error!("checkpoint region: {}", e);
            None
        }
    }
}

/// Reports damaged slots and restores the newest checkpoint into `learner` (logged
/// either way).
pub fn restore(ckpt: &mut Checkpointer<Flash>, learner: &mut Learner<'_, Plan>) {
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
        Err(e) => error!("reading the checkpoint pages: {}", e),
    }
    let mut scratch = [0.0f32; SCRATCH];
    match ckpt.restore(learner.trainer_mut(), &mut scratch) {
        Ok(i) => info!(
            "restored checkpoint: sequence {=u32}, step {=u32} (slot {=u8})",
            i.sequence, i.step, i.slot
        ),
        Err(RestoreError::NoCheckpoint) => info!("no checkpoint"),
        Err(e) => warn!("checkpoint not restored ({}): starting fresh", e),
    }
}

/// Saves `learner` (logged either way).
pub fn save(ckpt: &mut Checkpointer<Flash>, learner: &Learner<'_, Plan>) {
    match ckpt.save(learner.trainer()) {
        Ok(i) => info!(
            "checkpoint saved: sequence {=u32}, step {=u32} (slot {=u8})",
            i.sequence, i.step, i.slot
        ),
        Err(e) => error!("checkpoint save failed: {}", e),
    }
}
