//! [`Checkpointer`]: two slots in a flash region, written alternately.

use crate::error::{ConfigError, LayerField, OptimizerField, RestoreError, SaveError};
use crate::format::{self, Header, LayerDesc, COMMIT, CRC, HEADER_LEN, LAYER_LEN_V2, MAGIC, MAX_LAYERS};
use crate::io::{ReadErr, Reader, Writer};
use crate::optimizer_id::{CheckpointOptimizer, OptimizerId};
use crate::CHUNK;
use embedded_storage::nor_flash::NorFlash;
use microtrain::{shape, Dense, Plan, Trainer};

/// Where a complete checkpoint is and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CheckpointInfo {
    /// The slot, 0 or 1.
    pub slot: u8,
    /// Its sequence number (one more than the checkpoint before it).
    pub sequence: u32,
    /// The trainer's step count when it was saved.
    pub step: u32,
    /// Its format version (a newer build may have written it).
    pub version: u16,
}

/// What one slot of the region holds ([`Checkpointer::slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlotState {
    /// Its header bytes are erased (`0xFF`): nothing was ever saved there, or only
    /// the erase of a save happened.
    Erased,
    /// A complete checkpoint (CRC and commit marker match).
    Complete(CheckpointInfo),
    /// Neither: a save interrupted after its erase, or corrupted bytes. A restore
    /// ignores it.
    Damaged,
}

/// What [`Checkpointer::restore`] returns: the checkpoint that was restored.
pub type RestoreInfo = CheckpointInfo;

/// The newest complete slot, once the slots have been scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Not scanned yet, or a save failed halfway.
    Unknown,
    /// Scanned: the newest complete checkpoint, if any.
    Known(Option<CheckpointInfo>),
}

/// Saves and restores a [`Trainer`]'s parameters, optimizer state and step count in
/// two alternating slots of a flash region (see the [crate docs](crate)).
#[derive(Debug)]
pub struct Checkpointer<F> {
    flash: F,
    start: u32,
    slot_len: usize,
    scan: Scan,
}

/// `true` when sequence number `a` is newer than `b` (wrapping, as TCP's).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Bytes a checkpoint of this shape occupies in a slot, commit marker included, on a
/// flash with write size `write_size` (in the format version a save writes, see
/// [`format::version_for`]).
pub const fn slot_bytes(layers: &[Dense], state_per_param: usize, write_size: usize) -> usize {
    let p = shape::trainable_params_len(layers);
    let record = match format::layer_len(format::version_for(layers)) {
        Some(r) => r,
        None => return usize::MAX,
    };
    match format::total_len(record, layers.len(), p, p.saturating_mul(state_per_param)) {
        Some(t) => match format::marker_span(t, write_size) {
            Some((_, end)) => end,
            None => usize::MAX,
        },
        None => usize::MAX,
    }
}

/// The smallest region (two slots, each a whole number of erase units) for a
/// checkpoint of this shape on a flash with the given write and erase sizes.
pub const fn region_len(
    layers: &[Dense],
    state_per_param: usize,
    write_size: usize,
    erase_size: usize,
) -> usize {
    match format::align_up(slot_bytes(layers, state_per_param, write_size), erase_size) {
        Some(s) => s.saturating_mul(2),
        None => usize::MAX,
    }
}

/// Floats of scratch [`Checkpointer::restore`] needs: parameters plus optimizer state.
pub const fn scratch_len(layers: &[Dense], state_per_param: usize) -> usize {
    let p = shape::trainable_params_len(layers);
    p.saturating_add(p.saturating_mul(state_per_param))
}

fn read_err<E>(e: ReadErr<E>) -> Option<E> {
    match e {
        ReadErr::Flash(e) => Some(e),
        ReadErr::End => None,
    }
}

fn optimizer_mismatch(stored: &OptimizerId, expected: &OptimizerId) -> Option<OptimizerField> {
    if stored.code != expected.code {
        return Some(OptimizerField::Kind);
    }
    if stored.state_per_param != expected.state_per_param {
        return Some(OptimizerField::StatePerParam);
    }
    if stored.hyper_len != expected.hyper_len {
        return Some(OptimizerField::HyperCount);
    }
    let differs = stored
        .hyper
        .iter()
        .zip(expected.hyper.iter())
        .position(|(a, b)| a != b);
    differs.map(OptimizerField::Hyper)
}

impl<F: NorFlash> Checkpointer<F> {
    /// Checkpoints in the `region_len` bytes of `flash` at `region_start`: two slots
    /// of `region_len / 2` bytes rounded down to the erase size. The region must start
    /// on an erase boundary and hold at least two erase units.
    pub fn new(flash: F, region_start: u32, region_len: u32) -> Result<Self, ConfigError> {
        let (r, w, e) = (F::READ_SIZE, F::WRITE_SIZE, F::ERASE_SIZE);
        let fits = |x: usize| (1..=CHUNK).contains(&x) && CHUNK % x == 0 && e % x == 0;
        if !fits(r) || !fits(w) || e == 0 {
            return Err(ConfigError::Geometry {
                read: r,
                write: w,
                erase: e,
            });
        }
        if region_start as usize % e != 0 {
            return Err(ConfigError::Unaligned {
                start: region_start,
                erase: e,
            });
        }
        let slot_len = (region_len as usize / 2) / e * e;
        let capacity = flash.capacity();
        let end = (region_start as usize).checked_add(slot_len.saturating_mul(2));
        if slot_len == 0 || end.is_none_or(|end| end > capacity || end > u32::MAX as usize) {
            return Err(ConfigError::Region {
                start: region_start,
                len: region_len,
                capacity,
            });
        }
        Ok(Checkpointer {
            flash,
            start: region_start,
            slot_len,
            scan: Scan::Unknown,
        })
    }

    /// Bytes of one slot.
    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// The flash.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// The flash, mutably (what is written behind the checkpointer's back is noticed
    /// only at the next [`restore`](Self::restore) or [`newest`](Self::newest)).
    pub fn flash_mut(&mut self) -> &mut F {
        self.scan = Scan::Unknown;
        &mut self.flash
    }

    /// Gives the flash back.
    pub fn into_inner(self) -> F {
        self.flash
    }

    fn base(&self, slot: u8) -> u32 {
        self.start + (self.slot_len as u32) * u32::from(slot)
    }

    /// Checks one slot: header, CRC over the whole checkpoint, commit marker.
    /// `Ok(None)` when the slot does not hold a complete checkpoint.
    fn check_slot(&mut self, slot: u8) -> Result<Option<(CheckpointInfo, Header)>, F::Error> {
        let base = self.base(slot);
        let mut rd = Reader::new(&mut self.flash, base, self.slot_len);
        match check_slot(&mut rd) {
            Ok(Some(h)) => Ok(Some((
                CheckpointInfo {
                    slot,
                    sequence: h.sequence,
                    step: h.step,
                    version: h.version,
                },
                h,
            ))),
            Ok(None) => Ok(None),
            Err(e) => read_err(e).map_or(Ok(None), Err),
        }
    }

    /// Scans both slots and returns the newest complete checkpoint, with its header.
    fn scan_slots(&mut self) -> Result<Option<(CheckpointInfo, Header)>, F::Error> {
        self.scan = Scan::Unknown;
        let a = self.check_slot(0)?;
        let b = self.check_slot(1)?;
        let best = match (a, b) {
            (Some(a), Some(b)) => Some(if newer(b.0.sequence, a.0.sequence) { b } else { a }),
            (a, b) => a.or(b),
        };
        self.scan = Scan::Known(best.map(|(i, _)| i));
        Ok(best)
    }

    /// What each of the two slots holds (each is read whole, CRC included), to
    /// report damaged slots; [`restore`](Self::restore) needs no call to it.
    pub fn slots(&mut self) -> Result<[SlotState; 2], F::Error> {
        let mut out = [SlotState::Erased; 2];
        for (slot, state) in (0u8..).zip(out.iter_mut()) {
            *state = match self.check_slot(slot)? {
                Some((info, _)) => SlotState::Complete(info),
                None => {
                    let mut hb = [0u8; HEADER_LEN];
                    let base = self.base(slot);
                    let mut rd = Reader::new(&mut self.flash, base, self.slot_len);
                    match rd.read(&mut hb) {
                        Ok(()) if hb.iter().all(|b| *b == 0xFF) => SlotState::Erased,
                        Ok(()) | Err(ReadErr::End) => SlotState::Damaged,
                        Err(ReadErr::Flash(e)) => return Err(e),
                    }
                }
            };
        }
        Ok(out)
    }

    /// The newest complete checkpoint on flash, if any (scans both slots, CRC
    /// included).
    pub fn newest(&mut self) -> Result<Option<CheckpointInfo>, F::Error> {
        Ok(self.scan_slots()?.map(|(i, _)| i))
    }

    /// Saves `trainer`'s parameters, optimizer state (with the optimizer's identity)
    /// and step count into the slot that does not hold the newest complete checkpoint.
    /// That checkpoint stays intact until the new one is complete: a power cut at any
    /// point leaves one of the two.
    pub fn save<O: CheckpointOptimizer, P: Plan>(
        &mut self,
        trainer: &Trainer<'_, O, P>,
    ) -> Result<CheckpointInfo, SaveError<F::Error>> {
        let layers = trainer.layers();
        let (params, state) = (trainer.params(), trainer.state());
        if layers.is_empty() || layers.len() > MAX_LAYERS {
            return Err(SaveError::Shape);
        }
        let version = format::version_for(layers);
        let record = format::layer_len(version).ok_or(SaveError::Shape)?;
        let total =
            format::total_len(record, layers.len(), params.len(), state.len()).ok_or(SaveError::Shape)?;
        let (_, end) = format::marker_span(total, F::WRITE_SIZE).ok_or(SaveError::Shape)?;
        if end > self.slot_len {
            return Err(SaveError::TooLarge {
                needed: end,
                slot: self.slot_len,
            });
        }
        let newest = match self.scan {
            Scan::Known(n) => n,
            Scan::Unknown => self.scan_slots().map_err(SaveError::Flash)?.map(|(i, _)| i),
        };
        let (slot, sequence) = match newest {
            Some(n) => (1 - n.slot.min(1), n.sequence.wrapping_add(1)),
            None => (0, 1),
        };
        let header = Header {
            version,
            flags: 0,
            total_len: total as u32,
            sequence,
            step: trainer.step_count(),
            layers: layers.len() as u16,
            loss: trainer.loss().code(),
            optimizer: trainer.optimizer().id(),
            reserved: 0,
            params: u32::try_from(params.len()).map_err(|_| SaveError::Shape)?,
            state: u32::try_from(state.len()).map_err(|_| SaveError::Shape)?,
        };
        let record_of = |l: &Dense| LayerDesc::of(l).and_then(|d| d.encode(version));
        if layers.iter().any(|l| record_of(l).is_none()) {
            return Err(SaveError::Shape);
        }
        // From here on the slot is being rewritten: if anything fails, rescan next time.
        self.scan = Scan::Unknown;
        let base = self.base(slot);
        let erase_end = format::align_up(end, F::ERASE_SIZE).ok_or(SaveError::Shape)?;
        self.flash
            .erase(base, base + erase_end as u32)
            .map_err(SaveError::Flash)?;
        let mut w = Writer::new(&mut self.flash, base);
        w.put(&header.encode()).map_err(SaveError::Flash)?;
        for r in layers.iter().filter_map(record_of) {
            w.put(r.get(..record).unwrap_or(&[])).map_err(SaveError::Flash)?;
        }
        for v in params.iter().chain(state.iter()) {
            w.put(&v.to_le_bytes()).map_err(SaveError::Flash)?;
        }
        let crc = w.crc();
        w.put_raw(&crc.to_le_bytes()).map_err(SaveError::Flash)?;
        w.write_separately(&COMMIT).map_err(SaveError::Flash)?;
        let info = CheckpointInfo {
            slot,
            sequence,
            step: header.step,
            version,
        };
        self.scan = Scan::Known(Some(info));
        Ok(info)
    }

    /// Restores the newest complete checkpoint into `trainer`: parameters, optimizer
    /// state and step count, bit for bit as saved.
    ///
    /// Both slots are checked first (CRC over each whole checkpoint); the newest
    /// complete one must match the trainer's shape, loss and optimizer identity.
    /// Then a second pass reads the values into `scratch` (at least
    /// [`scratch_len`] floats), checking the CRC again, and one call to
    /// [`Trainer::restore`] installs them. On any error the trainer is untouched.
    pub fn restore<O: CheckpointOptimizer, P: Plan>(
        &mut self,
        trainer: &mut Trainer<'_, O, P>,
        scratch: &mut [f32],
    ) -> Result<RestoreInfo, RestoreError<F::Error>> {
        let (info, h) = self
            .scan_slots()
            .map_err(RestoreError::Flash)?
            .ok_or(RestoreError::NoCheckpoint)?;
        let record = format::layer_len(h.version).ok_or(RestoreError::Version { found: h.version })?;
        let layers = trainer.layers();
        let (p, s) = (trainer.params().len(), trainer.state().len());
        if usize::from(h.layers) == layers.len() {
            // Another kind, kind size, activation or freezing of the same layers is
            // named as such (the counts that follow from it differ too).
            let base = self.base(info.slot);
            let mut rd = Reader::new(&mut self.flash, base, self.slot_len);
            rd.seek(HEADER_LEN);
            check_layers(&mut rd, layers, h.version, record).map_err(|e| match e {
                Fail::Read(ReadErr::Flash(e)) => RestoreError::Flash(e),
                Fail::Read(ReadErr::End) => RestoreError::Corrupt {
                    offset: h.total_len as usize,
                },
                Fail::Restore(r) => r,
            })?;
        }
        check_header(
            &h,
            record,
            layers,
            p,
            s,
            trainer.loss(),
            &trainer.optimizer().id(),
        )?;
        let provided = scratch.len();
        let needed = p + s;
        let (pbuf, rest) = scratch
            .split_at_mut_checked(p)
            .ok_or(RestoreError::Scratch { needed, provided })?;
        let sbuf = rest
            .get_mut(..s)
            .ok_or(RestoreError::Scratch { needed, provided })?;
        let base = self.base(info.slot);
        let mut rd = Reader::new(&mut self.flash, base, self.slot_len);
        let total = h.total_len as usize;
        read_values(&mut rd, layers, h.version, record, pbuf, sbuf, total).map_err(|e| match e {
            Fail::Read(ReadErr::Flash(e)) => RestoreError::Flash(e),
            Fail::Read(ReadErr::End) => RestoreError::Corrupt {
                offset: h.total_len as usize,
            },
            Fail::Restore(r) => r,
        })?;
        trainer
            .restore(pbuf, sbuf, h.step)
            .map_err(RestoreError::Rejected)?;
        Ok(info)
    }
}

/// A failure of the reading pass.
enum Fail<E> {
    Read(ReadErr<E>),
    Restore(RestoreError<E>),
}

impl<E> From<ReadErr<E>> for Fail<E> {
    fn from(e: ReadErr<E>) -> Self {
        Fail::Read(e)
    }
}

/// Header, CRC and marker of the slot under `rd`; `Ok(None)` if it is not complete.
fn check_slot<F: NorFlash>(rd: &mut Reader<'_, F>) -> Result<Option<Header>, ReadErr<F::Error>> {
    let mut hb = [0u8; HEADER_LEN];
    rd.read(&mut hb)?;
    if hb.get(..4) != Some(&MAGIC[..]) {
        return Ok(None);
    }
    let h = Header::decode(&hb);
    let total = h.total_len as usize;
    if total < HEADER_LEN + 4 {
        return Ok(None);
    }
    let Some((marker, end)) = format::marker_span(total, F::WRITE_SIZE) else {
        return Ok(None);
    };
    if end > rd.len() {
        return Ok(None);
    }
    let mut d = CRC.digest();
    d.update(&hb);
    rd.digest(&mut d, total - 4 - HEADER_LEN)?;
    let mut stored = [0u8; 4];
    rd.read(&mut stored)?;
    if u32::from_le_bytes(stored) != d.finalize() {
        return Ok(None);
    }
    rd.seek(marker);
    let mut m = [0u8; 4];
    rd.read(&mut m)?;
    Ok((m == COMMIT).then_some(h))
}

/// Checks a complete slot's header against the trainer.
fn check_header<E>(
    h: &Header,
    record: usize,
    layers: &[Dense],
    params: usize,
    state: usize,
    loss: microtrain::Loss,
    opt: &OptimizerId,
) -> Result<(), RestoreError<E>> {
    if h.flags != 0 {
        return Err(RestoreError::Corrupt { offset: 6 });
    }
    if h.reserved != 0 {
        return Err(RestoreError::Corrupt { offset: 26 });
    }
    if usize::from(h.layers) != layers.len() {
        return Err(RestoreError::LayerCount {
            stored: usize::from(h.layers),
            expected: layers.len(),
        });
    }
    let loss = loss.code();
    if h.loss != loss {
        return Err(RestoreError::Loss {
            stored: h.loss,
            expected: loss,
        });
    }
    if let Some(field) = optimizer_mismatch(&h.optimizer, opt) {
        return Err(RestoreError::Optimizer { field });
    }
    if h.params as usize != params {
        return Err(RestoreError::ParamCount {
            stored: h.params as usize,
            expected: params,
        });
    }
    if h.state as usize != state {
        return Err(RestoreError::StateCount {
            stored: h.state as usize,
            expected: state,
        });
    }
    if format::total_len(record, layers.len(), params, state) != Some(h.total_len as usize) {
        return Err(RestoreError::Corrupt { offset: 8 });
    }
    Ok(())
}

/// Reads the layer record at the reader's position and decodes it (`Corrupt` for a
/// reserved byte that is not 0); its raw bytes as well, for the CRC.
fn read_record<F: NorFlash>(
    rd: &mut Reader<'_, F>,
    version: u16,
    record: usize,
) -> Result<(LayerDesc, [u8; LAYER_LEN_V2]), Fail<F::Error>> {
    let mut r = [0u8; LAYER_LEN_V2];
    let at = rd.pos();
    rd.read(r.get_mut(..record).ok_or(Fail::Read(ReadErr::End))?)?;
    let d = LayerDesc::decode(&r, version).map_err(|off| {
        Fail::Restore(RestoreError::Corrupt {
            offset: at.saturating_add(off),
        })
    })?;
    Ok((d, r))
}

/// The error for layer `index`'s record `stored` against the model's layer `l`: the
/// first field that differs, or the trainability when only that does. With `sizes`
/// false, a difference in inputs or outputs alone is left to the counts.
fn layer_mismatch<E>(index: usize, stored: &LayerDesc, l: &Dense, sizes: bool) -> Option<RestoreError<E>> {
    // A model's layer always has a description (`Trainer::new` checked its sizes).
    let mine = LayerDesc::of(l)?;
    match stored.difference(&mine) {
        Some((LayerField::Inputs | LayerField::Outputs, ..)) if !sizes => None,
        Some((field, stored, expected)) => Some(RestoreError::Layer {
            index,
            field,
            stored,
            expected,
        }),
        None if stored.train != mine.train => Some(RestoreError::Freezing {
            index,
            stored: stored.train,
            expected: mine.train,
        }),
        None => None,
    }
}

/// The first pass over the layer records (the counts match): a layer of another kind,
/// kind size, activation or activation parameter, or the same layer trained
/// differently, is named before the counts that follow from it.
fn check_layers<F: NorFlash>(
    rd: &mut Reader<'_, F>,
    layers: &[Dense],
    version: u16,
    record: usize,
) -> Result<(), Fail<F::Error>> {
    for (index, l) in layers.iter().enumerate() {
        let (stored, _) = read_record(rd, version, record)?;
        if let Some(e) = layer_mismatch(index, &stored, l, false) {
            return Err(Fail::Restore(e));
        }
    }
    Ok(())
}

/// The second pass: CRC again, layer records against the model, values into the
/// buffers (finite only).
fn read_values<F: NorFlash>(
    rd: &mut Reader<'_, F>,
    layers: &[Dense],
    version: u16,
    record: usize,
    pbuf: &mut [f32],
    sbuf: &mut [f32],
    total: usize,
) -> Result<(), Fail<F::Error>> {
    let mut d = CRC.digest();
    rd.digest(&mut d, HEADER_LEN)?;
    for (index, l) in layers.iter().enumerate() {
        let (stored, r) = read_record(rd, version, record)?;
        d.update(r.get(..record).unwrap_or(&[]));
        if let Some(e) = layer_mismatch(index, &stored, l, true) {
            return Err(Fail::Restore(e));
        }
    }
    for v in pbuf.iter_mut().chain(sbuf.iter_mut()) {
        let offset = rd.pos();
        let mut b = [0u8; 4];
        rd.read(&mut b)?;
        d.update(&b);
        let x = f32::from_le_bytes(b);
        if !x.is_finite() {
            return Err(Fail::Restore(RestoreError::NonFinite { offset }));
        }
        *v = x;
    }
    let mut stored = [0u8; 4];
    rd.read(&mut stored)?;
    if rd.pos() != total || u32::from_le_bytes(stored) != d.finalize() {
        return Err(Fail::Restore(RestoreError::Corrupt {
            offset: total.saturating_sub(4),
        }));
    }
    Ok(())
}
