//! Property: whatever bad readings are interleaved with a stream of good ones (bus
//! errors, NaN or infinite axes, saturated axes), the windows, the predictions, the
//! parameters and the optimizer state are bit for bit those of the clean stream, and
//! every bad reading is counted.

use microtrain_stream::window::WINDOW_LEN;
use microtrain_stream::{App, Learner, Reading, SensorError, EMPTY_STORAGE};
use proptest::prelude::*;

fn bad_read() -> impl Strategy<Value = Result<Reading, SensorError>> {
    let axis = 0usize..3;
    prop_oneof![
        Just(Err(SensorError::Bus)),
        (
            axis.clone(),
            prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)]
        )
            .prop_map(|(i, v)| {
                let mut r = [0.1, 0.2, 0.9];
                r[i] = v;
                Ok(r)
            }),
        (axis, 1.99f32..100.0, any::<bool>()).prop_map(|(i, v, neg)| {
            let mut r = [0.1, 0.2, 0.9];
            r[i] = if neg { -v } else { v };
            Ok(r)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn interleaved_bad_readings_change_nothing(
        good in proptest::collection::vec((-1.9f32..1.9, -1.9f32..1.9, -1.9f32..1.9), 3 * WINDOW_LEN),
        bad in proptest::collection::vec((0usize..3 * WINDOW_LEN, bad_read()), 0..40),
        labels in proptest::collection::vec(proptest::option::of(0usize..3), 3),
    ) {
        let (mut s1, mut s2) = (EMPTY_STORAGE, EMPTY_STORAGE);
        let mut clean = App::new(Learner::new(&mut s1, 9).unwrap(), 2.0);
        let mut dirty = App::new(Learner::new(&mut s2, 9).unwrap(), 2.0);
        let mut outs = (Vec::new(), Vec::new());
        for (i, (x, y, z)) in good.iter().enumerate() {
            for (_, b) in bad.iter().filter(|(at, _)| *at == i) {
                prop_assert!(!dirty.push(*b));
            }
            let r = Ok([*x, *y, *z]);
            let (fc, fd) = (clean.push(r), dirty.push(r));
            prop_assert_eq!(fc, fd);
            if fc {
                let l = labels[i / WINDOW_LEN];
                outs.0.push(clean.finish_window(l, l).unwrap());
                outs.1.push(dirty.finish_window(l, l).unwrap());
            }
        }
        prop_assert_eq!(outs.0.len(), 3);
        prop_assert_eq!(outs.0, outs.1);
        // The bits of each value (f32, or the fixed-point model's i32 with the feature `fixed`).
        let bits = |v: &[microtrain_stream::model::Param]| v.iter().map(|f| microtrain_stream::checksum::Word::bits(*f)).collect::<Vec<_>>();
        prop_assert_eq!(bits(clean.learner().params()), bits(dirty.learner().params()));
        prop_assert_eq!(bits(clean.learner().optimizer_state()), bits(dirty.learner().optimizer_state()));
        prop_assert_eq!(dirty.bad_counts().total() as usize, bad.len());
        prop_assert_eq!(clean.bad_counts().total(), 0);
    }
}
