//! The device-side pieces at a configured shape: a six-axis window with overlap and a
//! wide range, screened by a `Validator<6>`; the features of each window are those of
//! its good readings only, whatever bad readings were interleaved.

use microtrain_stream::features::{feature_count, features_flat};
use microtrain_stream::validate::Validator;
use microtrain_stream::window::Window;
use microtrain_stream::SensorError;

const LEN: usize = 10;
const HOP: usize = 4;
const AXES: usize = 6;

fn good(i: usize) -> [f32; AXES] {
    let t = i as f32;
    [t * 0.5, 9.8, -t, (t * 0.3).sin() * 20.0, 0.1 * t, -3.0]
}

/// Runs `reads` through validator and window; returns the features of every window.
fn windows(reads: &[Result<[f32; AXES], SensorError>]) -> Vec<Vec<f32>> {
    let mut v = Validator::<AXES>::new(40.0);
    let mut w = Window::<LEN, AXES>::new();
    let mut out = Vec::new();
    for r in reads {
        let Ok(r) = v.check(*r) else { continue };
        if w.push(r) {
            let flat: Vec<f32> = w.samples().iter().flatten().copied().collect();
            let mut f = vec![0.0; feature_count(AXES)];
            features_flat(&flat, AXES, &mut f);
            out.push(f);
            w.slide(HOP);
        }
    }
    out
}

#[test]
fn overlapping_windows_of_six_axes_ignore_bad_readings() {
    let clean: Vec<_> = (0..40).map(|i| Ok(good(i))).collect();
    let mut dirty = Vec::new();
    for i in 0..40 {
        dirty.push(Ok(good(i)));
        match i % 5 {
            0 => dirty.push(Err(SensorError::Bus)),
            1 => dirty.push(Ok([0.0, 0.0, 0.0, f32::NAN, 0.0, 0.0])),
            2 => dirty.push(Ok([0.0, 0.0, 0.0, 0.0, 0.0, -39.9])),
            _ => {}
        }
    }
    let a = windows(&clean);
    // Windows close at readings 10, 14, 18, ..., 38: (40 - 10) / 4 + 1.
    assert_eq!(a.len(), (40 - LEN) / HOP + 1);
    assert_eq!(a, windows(&dirty));
    // The second window starts HOP readings after the first: its x mean is 2 higher.
    assert_eq!(a[1][0] - a[0][0], HOP as f32 * 0.5);
    // Readings of 20 are inside the 40 range: the gyro axis moves.
    assert!(a[0][AXES + 3] > 1.0, "{:?}", a[0]);
}
