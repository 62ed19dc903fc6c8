//! Integer arithmetic of the fixed-point path: the wide multiply, rounding shifts,
//! saturation, conversions from and to `f32` without floating-point instructions, and
//! the elementary functions (exp, ln, sigmoid, tanh, reciprocal square root).
//!
//! Every function is total: no panics, no overflow (the intermediate values are `i64`
//! or saturated), no division by zero.

use super::{FRAC, ONE, VALUE_MAX};

/// `a * b` exactly, as `i64`.
///
/// On the Cortex-M0/M0+ (`thumbv6m`, no `SMULL`) a `64 = 32 x 32` product compiles to a
/// call of the 64 x 64 library multiply; this version splits both operands into 16-bit
/// halves and needs four 32-bit `MULS` (measured by `firmware/qemu/bench/run-m0`).
/// Elsewhere it is the native widening multiply. Both give the same exact product.
#[inline(always)]
pub fn mul_wide(a: i32, b: i32) -> i64 {
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    {
        mul_wide_split(a, b)
    }
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    {
        i64::from(a) * i64::from(b)
    }
}

/// [`mul_wide`] from four 32-bit products of 16-bit halves (what the Cortex-M0 runs;
/// tested on every target).
#[inline(always)]
pub fn mul_wide_split(a: i32, b: i32) -> i64 {
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let (bh, bl) = (b >> 16, b & 0xFFFF);
    // |ah|, |bh| <= 2^15 and 0 <= al, bl < 2^16: each partial product fits its type.
    let hh = i64::from(ah.wrapping_mul(bh)) << 32;
    let cross = i64::from(ah.wrapping_mul(bl)) + i64::from(al.wrapping_mul(bh));
    let ll = i64::from((al as u32).wrapping_mul(bl as u32));
    hh.wrapping_add(cross << 16).wrapping_add(ll)
}

/// `round(a * b / 2^24)` for `|a|, |b| < 2^27`, in 32-bit arithmetic only: the
/// product's 16-bit partial products, the low one truncated to its top 16 bits before
/// the rounding (so a result may differ from the exactly rounded one by one unit, only
/// where the exact value lies within `2^-8` of a rounding tie). On the M0 about half
/// the instructions of [`mul_wide`] with a 64-bit shift. The plain-SGD update's
/// `lr delta x_j` (Q8.24 times Q16.16 to Q16.16).
#[inline(always)]
pub fn mul_shift24(a: i32, b: i32) -> i32 {
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let (bh, bl) = (b >> 16, b & 0xFFFF);
    // |ah|, |bh| < 2^11: ah bh 2^8 < 2^30; each cross product < 2^27.
    let ll = ((al as u32).wrapping_mul(bl as u32) >> 16) as i32;
    let mid = ah.wrapping_mul(bl) + al.wrapping_mul(bh) + ll + (1 << 7);
    (ah.wrapping_mul(bh) << 8) + (mid >> 8)
}

/// Magnitude bits of the 16-bit operands of the dot products ([`QBITS`] = 13): a
/// quantised value lies in `[-2^13, 2^13]`, a product of two in `[-2^26, 2^26]`, and a
/// sum of [`CHUNK`] (16) products within `+-2^30`, an `i32`.
pub const QBITS: u32 = 13;

/// Products summed in an `i32` before the sum is widened to `i64` (see [`QBITS`]).
pub const CHUNK: usize = 16;

/// The shift that brings values of magnitude at most `m` (units) into [`QBITS`] bits:
/// the least `s` with `m < 2^(QBITS + s)`.
#[inline(always)]
pub const fn quant_shift(m: u32) -> u32 {
    // The bit length of m >> QBITS (at most 19 bits), by halving steps: about 20
    // instructions on the M0, which has no CLZ (`leading_zeros` takes about 40).
    let (mut v, mut s) = (m >> QBITS, 0);
    if v >> 16 != 0 {
        v >>= 16;
        s += 16;
    }
    if v >> 8 != 0 {
        v >>= 8;
        s += 8;
    }
    if v >> 4 != 0 {
        v >>= 4;
        s += 4;
    }
    if v >> 2 != 0 {
        v >>= 2;
        s += 2;
    }
    if v >> 1 != 0 {
        v >>= 1;
        s += 1;
    }
    s + v
}

/// The per-tensor shift of a weight matrix: `quant_shift` of the OR of `w ^ (w >> 31)`
/// (`|w|` for `w >= 0`, `|w| - 1` below), so that every `w >> s` lies in
/// `[-2^13, 2^13)`. One pass of four instructions per weight on the M0.
#[inline(never)]
pub fn weight_shift(w: &[i32]) -> u32 {
    let bits = w.iter().fold(0u32, |m, v| m | (v ^ (v >> 31)) as u32);
    quant_shift(bits)
}

/// `max |v_i|` (0 for an empty slice): one rolled loop (flash: the slices are short).
#[inline(never)]
pub fn max_abs(v: &[i32]) -> u32 {
    let mut m = 0;
    for x in v {
        m = m.max(x.unsigned_abs());
    }
    m
}

/// Writes `round(v_i / 2^s)` into `out` (as many as both hold), with `s` =
/// [`quant_shift`]`(max |v_i|)`, so that each lies in `[-2^13, 2^13]`; returns `s` and
/// the sum of the written values (at most `2^13 * len`).
#[inline(always)]
pub fn quantise(v: &[i32], out: &mut [i32]) -> (u32, i32) {
    quantise_with(v, out, max_abs(v))
}

/// [`quantise`] with `m = max |v_i|` known (from [`max_abs`]); a larger `m` gives a
/// larger shift, and the same bound on the written values.
#[inline(never)]
pub fn quantise_with(v: &[i32], out: &mut [i32], m: u32) -> (u32, i32) {
    let s = quant_shift(m);
    let half = (1i32 << s) >> 1;
    let mut sum = 0i32;
    for (o, x) in out.iter_mut().zip(v) {
        // |x| <= VALUE_MAX < 2^27 and half < 2^14: no overflow.
        let q = (x.wrapping_add(half)) >> s;
        *o = q;
        sum = sum.wrapping_add(q);
    }
    (s, sum)
}

/// `sum_j (w_j >> sw) * q_j`, exactly, for `w >> sw` in `[-2^13, 2^13)` and `q` in
/// `[-2^13, 2^13]` (from [`weight_shift`] and [`quantise`]): one 32-bit `MULS` per
/// product, [`CHUNK`] products summed in an `i32`, the chunks in an `i64`.
#[inline(always)]
pub fn dot_q(w: &[i32], q: &[i32], sw: u32) -> i64 {
    let mut total = 0i64;
    for (wc, qc) in w.chunks(CHUNK).zip(q.chunks(CHUNK)) {
        let mut s = 0i32;
        for (wv, qv) in wc.iter().zip(qc) {
            s = s.wrapping_add((wv >> sw).wrapping_mul(*qv));
        }
        total += i64::from(s);
    }
    total
}

/// The Q16.16 value of `(2 S + Q) 2^(sw + sq - 1)` units of `2^-32`, where `S` is a
/// [`dot_q`] sum and `Q` the sum of the quantised operands: each weight is taken as
/// `(w >> sw) + 1/2` (within half a step of `w / 2^sw`, as rounding would be, without
/// an instruction per product), so that `sum (w_j / 2^sw + e_j) q_j` with
/// `|e_j| <= 1/2`. Rounded to nearest, not saturated (at most `2^49`).
#[inline(always)]
pub fn scale_dot(s: i64, q_sum: i32, sw: u32, sq: u32) -> i64 {
    let acc2 = 2 * s + i64::from(q_sum); // units 2^(sw + sq - 33)
    let e = sw + sq;
    if e >= 17 {
        acc2 << (e - 17)
    } else {
        round_shift(acc2, 17 - e)
    }
}

/// The same value as [`scale_dot`] in 32-bit arithmetic, for a layer whose operands
/// allow it (`sw + sq <= 16` and at most [`CHUNK`] products, so `|S| <= 2^30`):
/// with `m = 16 - sw - sq` and the layer's constant `c = (Q + 2^m) >> 1`
/// ([`fast_constant`]), `round((2 S + Q) / 2^(m + 1)) = (S + c) >> m` exactly
/// (`floor((2a + 1) / 2^(m+1)) = floor(a / 2^m)` when `Q + 2^m` is odd).
#[inline(always)]
pub fn scale_dot_fast(s: i32, c: i32, m: u32) -> i32 {
    s.wrapping_add(c) >> m
}

/// The per-layer constant `c = (Q + 2^m) >> 1` of [`scale_dot_fast`].
#[inline(always)]
pub fn fast_constant(q_sum: i32, m: u32) -> i32 {
    (q_sum + (1 << m)) >> 1
}

/// `sum_j (w_j >> sw) * q_j` in an `i32`, for at most [`CHUNK`] products with the
/// operand ranges of [`dot_q`] (so within `+-2^30`).
#[inline(always)]
pub fn dot_q_short(w: &[i32], q: &[i32], sw: u32) -> i32 {
    let mut s = 0i32;
    for (wv, qv) in w.iter().zip(q) {
        s = s.wrapping_add((wv >> sw).wrapping_mul(*qv));
    }
    s
}

/// `v = n 2^s` with `n` in `[2^13, 2^14]` (rounded to nearest) for `v > 0`; `(0, 0)`
/// for `v <= 0`. Relative error at most `2^-14`.
#[inline(always)]
pub fn normalise14(v: i32) -> (i32, i32) {
    if v <= 0 {
        return (0, 0);
    }
    let bits = 32 - leading_zeros(v as u32) as i32; // v in [2^(bits-1), 2^bits)
    let s = bits - 14;
    if s > 0 {
        ((v + (1 << (s - 1))) >> s, s)
    } else {
        (v << -s, s)
    }
}

/// `round(a * b / 2^8)` exactly, in 32-bit wrapping arithmetic, for any `a`, `b` whose
/// result lies in the `i32` range (the gradient `delta x` in Q8.24, which the step has
/// checked to be below 128): with 16-bit halves `a = ah 2^16 + al`, `b = bh 2^16 + bl`,
/// `a b = (ah b + al bh) 2^16 + al bl`, and the first term is a multiple of `2^8`, so
/// the sum modulo `2^32` of `(ah b + al bh) 2^8` and `(al bl + 2^7) >> 8` is the result
/// (three 32-bit products).
#[inline(always)]
pub fn mul_round8(a: i32, b: i32) -> i32 {
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    {
        // With a widening multiply (SMULL): the same exact value.
        ((i64::from(a) * i64::from(b) + (1 << 7)) >> 8) as i32
    }
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    {
        mul_round8_split(a, b)
    }
}

/// [`mul_round8`] from 16-bit halves (what the Cortex-M0 runs; tested on every target).
#[inline(always)]
pub fn mul_round8_split(a: i32, b: i32) -> i32 {
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let (bh, bl) = (b >> 16, b & 0xFFFF);
    let ll = ((al as u32).wrapping_mul(bl as u32) + (1 << 7)) >> 8; // al bl < 2^32 - 2^17
                                                                    // ah b 2^8 = ah bh 2^24 + ah bl 2^8 modulo 2^32.
    let high = ah.wrapping_mul(b).wrapping_add(al.wrapping_mul(bh));
    (high << 8).wrapping_add(ll as i32)
}

/// `floor(a * b / 2^s)` for `a, b < 2^31` and `s` in `16..=32`, saturated to
/// `u32::MAX`, exactly, in 32-bit arithmetic: with 16-bit halves, `t = ah bl + al bh +
/// floor(al bl / 2^16)` (below `2^32`) and `a b = ah bh 2^32 + t 2^16 + r`, `r < 2^16`,
/// the result is `ah bh 2^(32-s) + floor(t / 2^(s-16))`.
#[inline(always)]
pub fn mul_shr_u(a: u32, b: u32, s: u32) -> u32 {
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    {
        // With a widening multiply (UMULL): the same exact value.
        ((u64::from(a) * u64::from(b)) >> s).min(u64::from(u32::MAX)) as u32
    }
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    {
        mul_shr_u_split(a, b, s)
    }
}

/// [`mul_shr_u`] from 16-bit halves (what the Cortex-M0 runs; tested on every target).
#[inline(always)]
pub fn mul_shr_u_split(a: u32, b: u32, s: u32) -> u32 {
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let (bh, bl) = (b >> 16, b & 0xFFFF);
    let t = ah * bl + al * bh + ((al * bl) >> 16);
    let hh = ah * bh; // < 2^30
    if s < 30 && hh >= 1 << s {
        return u32::MAX;
    }
    (hh << (32 - s)).saturating_add(t >> (s - 16))
}

/// `v >> shift`, rounded to nearest (ties up), for `shift` in `1..=62` and
/// `|v| < 2^62` (every caller's sums are below `2^63 - 2^61`: see the module docs of
/// [`crate::fixed`]).
#[inline(always)]
pub const fn round_shift(v: i64, shift: u32) -> i64 {
    (v.wrapping_add(1i64 << (shift - 1))) >> shift
}

/// The number of leading zero bits of `v` (32 for 0), by binary search: on the
/// Cortex-M0, which has no `CLZ`, about 15 instructions instead of a library call.
#[inline(always)]
pub const fn leading_zeros(v: u32) -> u32 {
    if v == 0 {
        return 32;
    }
    let (mut v, mut n) = (v, 0);
    if v >> 16 == 0 {
        n += 16;
        v <<= 16;
    }
    if v >> 24 == 0 {
        n += 8;
        v <<= 8;
    }
    if v >> 28 == 0 {
        n += 4;
        v <<= 4;
    }
    if v >> 30 == 0 {
        n += 2;
        v <<= 2;
    }
    if v >> 31 == 0 {
        n += 1;
    }
    n
}

/// `v` saturated to the value range `[-VALUE_MAX, VALUE_MAX]`.
#[inline(always)]
pub const fn sat(v: i64) -> i32 {
    if v > VALUE_MAX as i64 {
        VALUE_MAX
    } else if v < -(VALUE_MAX as i64) {
        -VALUE_MAX
    } else {
        v as i32
    }
}

/// The Q16.16 product `a * b`, rounded to nearest and saturated to the value range.
#[inline(always)]
pub fn mul(a: i32, b: i32) -> i32 {
    sat(round_shift(mul_wide(a, b), FRAC))
}

/// `x` as a fixed-point number with `frac` fractional bits (`frac` in `0..=30`),
/// rounded to nearest, computed from the bits of the `f32` (no floating-point
/// instruction: on a chip without an FPU this is a few integer instructions, not a
/// library call). `None` when `x` is not finite or `|x| * 2^frac` exceeds `limit`.
#[inline(never)] // one copy (flash): called once per value converted
pub fn from_f32(x: f32, frac: u32, limit: i32) -> Option<i32> {
    let bits = x.to_bits();
    let exp = ((bits >> 23) & 0xFF) as i32;
    if exp == 0xFF {
        return None;
    }
    // Subnormals and zero round to 0 at every `frac` used here.
    let mant = if exp == 0 {
        0
    } else {
        (bits & 0x7F_FFFF) | 0x80_0000
    };
    // x = mant * 2^(exp - 150); scaled: mant * 2^(exp - 150 + frac), in 32-bit steps.
    let shift = exp - 150 + frac as i32;
    let mag: u32 = if shift >= 0 {
        // mant < 2^24: a shift beyond 7 leaves 32 bits, beyond every limit (< 2^31).
        if shift > 7 {
            return None;
        }
        mant << shift
    } else if shift < -25 {
        0
    } else {
        let s = shift.unsigned_abs();
        (mant + (1 << (s - 1))) >> s
    };
    if mag > limit as u32 {
        return None;
    }
    let v = mag as i32;
    Some(if bits >> 31 == 1 { -v } else { v })
}

/// A fixed-point number with `frac` fractional bits (`frac` in `0..=100`) as `f32`
/// (`v * 2^-frac`, rounded to nearest like `v as f32`): the scaling by `2^-frac` is a
/// subtraction from the exponent bits, not a float multiply.
#[inline]
pub fn to_f32(v: i32, frac: u32) -> f32 {
    if v == 0 {
        return 0.0;
    }
    // |v| >= 1, so the exponent of `v as f32` is at least 127: the result stays normal.
    f32::from_bits((v as f32).to_bits().wrapping_sub(frac.min(100) << 23))
}

/// `(2^(i/64) - 1) * 2^16`, `i = 0..64`, rounded.
const EXP2_FRAC: [u16; 64] = [
    0, 714, 1435, 2164, 2902, 3647, 4400, 5162, 5932, 6710, 7496, 8292, 9096, 9908, 10730, 11560, 12400,
    13249, 14106, 14974, 15850, 16737, 17633, 18538, 19454, 20379, 21315, 22260, 23216, 24183, 25160, 26148,
    27146, 28155, 29175, 30207, 31249, 32303, 33369, 34446, 35534, 36635, 37747, 38872, 40009, 41158, 42320,
    43495, 44682, 45882, 47095, 48322, 49562, 50815, 52082, 53363, 54658, 55966, 57289, 58627, 59979, 61346,
    62727, 64124,
];

/// `2^x` for `x <= 0` in Q16.16 (0 when `x < -21`): `x = -k + f` with `f` in `[0, 1)`,
/// `f = i/64 + r`, `2^f = T_i 2^r` with `T_i` from a 64-entry table (rounded to
/// `2^-17`) and `2^r = 1 + t + t^2/2` with `t = r ln 2 < 0.011` (the omitted cubic term is
/// below `2.2e-7`), all in 32-bit integers; then shifted right by `k`, rounded. Error at
/// most `1.5 * 2^-16`, checked by a test.
pub fn exp2_neg(x: i32) -> i32 {
    if x > 0 {
        return ONE;
    }
    let k = (-(x >> 16)) as u32; // x = -k + f
    if k > 21 {
        // 2^x < 2^-21: rounds to 0.
        return 0;
    }
    let f = (x & 0xFFFF) as u32; // Q0.16
    let t_i = match EXP2_FRAC.get((f >> 10) as usize) {
        Some(&v) => u32::from(v) + (1 << 16),
        None => 1 << 16,
    }; // Q1.16
       // t = r ln 2 in Q0.20 (r < 2^10 units of 2^-16; ln 2 = 45426 * 2^-16).
    let t = ((f & 0x3FF) * 45_426) >> 12;
    let corr = t + ((t * t) >> 21); // t + t^2/2, Q0.20, < 2^14
    let v = (t_i << 4) + ((t_i * corr) >> 16); // 2^f in Q1.20, < 2^21
    ((v + (1 << (3 + k))) >> (4 + k)) as i32
}

/// `e^x` for `x <= 0`, Q16.16: `2^(x log2 e)`, the product in 32-bit pieces
/// (`log2 e = 1 + 29012 / 2^16`). Error at most `3 * 2^-16`.
#[inline(never)] // one copy (flash); called per output
pub fn exp_neg(x: i32) -> i32 {
    if x >= 0 {
        return ONE;
    }
    // e^x < 2^-33 below x = -24: the result is 0 there.
    let a = x.unsigned_abs().min(24 << 16);
    let (ah, al) = (a >> 16, a & 0xFFFF);
    let y = a + ah * 29_012 + ((al * 29_012 + (1 << 15)) >> 16); // |x| log2 e, Q16.16
    exp2_neg(-(y as i32))
}

/// `floor((2^32 - 1) / s)` for `s >= 2^16` (smaller `s` are taken as `2^16`): the
/// reciprocal of a Q16.16 value `>= 1` in Q0.32, by 16 steps of restoring division in
/// 32-bit arithmetic (on the M0 about a quarter of the library's `u32` division).
pub fn recip_q32(s: u32) -> u32 {
    let s = s.max(1 << 16);
    // The quotient has 16 bits: the dividend's top 16 bits (0xFFFF) are below s.
    let mut rem: u32 = 0xFFFF;
    let mut q: u32 = 0;
    for _ in 0..16 {
        // Next remainder 2 rem + 1 (every dividend bit is 1), compared with s without
        // forming it: 2 rem + 1 >= s  <=>  rem >= s - 1 - rem (rem < s: no overflow).
        let d = s - 1 - rem;
        q <<= 1;
        if rem >= d {
            rem -= d;
            q |= 1;
        } else {
            rem = 2 * rem + 1;
        }
    }
    q
}

/// `ln 2` in Q8.24.
const LN2_Q24: i32 = 11_629_080;

/// `ln s` for `s >= 1` (Q16.16 in, Q16.16 out; `s < 1` is taken as 1):
/// `s = 2^e m` with `m` in `[1, 2)`, `ln s = e ln 2 + ln m`, `ln(1 + u)` by a degree-7
/// polynomial in Q8.24 (error `2.6e-7`). Error at most `2^-16`.
#[inline(never)] // one copy (flash); called per output
pub fn ln_ge1(s: i32) -> i32 {
    let s = s.max(ONE) as u32;
    let e = 15 - leading_zeros(s) as i32; // s in [2^(16+e), 2^(17+e))
                                          // u = s / 2^e - 1 in Q8.24.
                                          // s < 2^(17 + e): m24 < 2^25.
    let m24 = if e <= 8 { s << (8 - e) } else { s >> (e - 8) } as i32;
    let u = m24 - (1 << 24);
    const C: [i32; 8] = [
        4, 16_776_664, -8_376_613, 5_489_937, -3_744_102, 2_195_021, -879_756, 167_928,
    ];
    let mut acc: i32 = 0;
    for c in C.iter().rev() {
        // |acc| < 2^25 and 0 <= u < 2^24: within `mul_shift24`'s 2^27 (one unit of
        // 2^-24 from the exact rounding per step).
        acc = mul_shift24(acc, u) + c;
    }
    // e <= 15: e ln 2 < 2^28.
    (acc + e * LN2_Q24 + (1 << 7)) >> 8
}

/// `sigmoid(x) * 2^16` at `x = i / 8`, `i = 0..=96` (so up to `x = 12`).
const SIGMOID: [u16; 97] = [
    32768, 34813, 36843, 38841, 40793, 42687, 44511, 46254, 47911, 49474, 50941, 52310, 53581, 54754, 55834,
    56822, 57724, 58544, 59287, 59959, 60565, 61109, 61598, 62036, 62428, 62778, 63090, 63368, 63615, 63835,
    64030, 64203, 64357, 64494, 64614, 64721, 64816, 64900, 64974, 65039, 65097, 65149, 65194, 65234, 65269,
    65300, 65328, 65352, 65374, 65393, 65410, 65425, 65438, 65449, 65459, 65468, 65476, 65483, 65489, 65495,
    65500, 65504, 65508, 65511, 65514, 65517, 65519, 65521, 65523, 65524, 65526, 65527, 65528, 65529, 65530,
    65530, 65531, 65532, 65532, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65535, 65535, 65535, 65535,
    65535, 65535, 65535, 65535, 65535, 65535, 65535,
];

/// The logistic sigmoid in Q16.16: the table of `sigmoid(i / 8)` for `i = 0..=96`,
/// linear interpolation, `sigmoid(-x) = 1 - sigmoid(x)`, and `1 - 2^-16` beyond
/// `x = 12`. Error at most `2.0e-4` (interpolation `h^2/8 max|s''|` with `h = 1/8`,
/// plus rounding), checked against `libm` by a test.
#[inline(never)] // one copy (flash); called per output
pub fn sigmoid(x: i32) -> i32 {
    let a = x.unsigned_abs();
    let i = (a >> 13) as usize; // x * 8, integer part
    let frac = (a & 0x1FFF) as i32; // Q0.13
    let y = match (SIGMOID.get(i), SIGMOID.get(i + 1)) {
        (Some(&y0), Some(&y1)) => {
            let (y0, y1) = (i32::from(y0), i32::from(y1));
            y0 + (((y1 - y0) * frac + (1 << 12)) >> 13)
        }
        _ => ONE - 1,
    };
    if x < 0 {
        ONE - y
    } else {
        y
    }
}

/// `tanh x = 2 sigmoid(2x) - 1` in Q16.16. Error at most `4.0e-4`.
pub fn tanh(x: i32) -> i32 {
    2 * sigmoid(x.saturating_mul(2)) - ONE
}

/// `floor(sqrt(v))` for a `u64`, bit by bit (32 iterations of shifts and adds; no
/// division).
pub fn isqrt_u64(v: u64) -> u64 {
    let mut rem = v;
    let mut root = 0u64;
    let mut bit = 1u64 << 62;
    while bit > rem {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(x: f64) -> i32 {
        (x * 65536.0).round() as i32
    }

    #[test]
    fn quant_shift_is_the_bit_length_beyond_qbits() {
        // Every bit length, its powers of two and their neighbours, and a sweep.
        let check = |m: u32| {
            let expected = (32 - m.leading_zeros()).saturating_sub(QBITS);
            assert_eq!(quant_shift(m), expected, "m = {m:#x}");
            // The definition: the least s with m < 2^(QBITS + s).
            assert!(u64::from(m) < 1u64 << (QBITS + quant_shift(m)), "m = {m:#x}");
        };
        [0, 1, u32::MAX].into_iter().for_each(check);
        for k in 0..32 {
            let p = 1u32 << k;
            [p - 1, p, p + 1, p | (p >> 1)].into_iter().for_each(check);
        }
        (0..200_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .for_each(check);
    }

    #[test]
    fn quantise_with_its_maximum_is_quantise() {
        let v = [5 << 16, -(3 << 16) - 7, 12_345, 0, -1];
        let (mut a, mut b) = ([0; 5], [0; 5]);
        assert_eq!(quantise(&v, &mut a), quantise_with(&v, &mut b, max_abs(&v)));
        assert_eq!(a, b);
        assert_eq!(max_abs(&v), (5 << 16) as u32);
        assert_eq!(max_abs(&[]), 0);
        assert_eq!(max_abs(&[i32::MIN]), 1 << 31);
    }

    #[test]
    fn wide_product_is_exact() {
        let vals = [
            0,
            1,
            -1,
            65535,
            -65536,
            123_456_789,
            -987_654_321,
            i32::MAX,
            i32::MIN,
            0x7FFF,
            -0x8000,
        ];
        for &a in &vals {
            for &b in &vals {
                assert_eq!(mul_wide(a, b), i64::from(a) * i64::from(b), "{a} * {b}");
                assert_eq!(mul_wide_split(a, b), i64::from(a) * i64::from(b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn short_product_rounds_like_the_wide_one() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 8) as i32) >> 5 // |v| < 2^27
        };
        for i in 0..200_000 {
            let (a, b) = if i < 16 {
                let e = [
                    0,
                    1,
                    -1,
                    (1 << 27) - 1,
                    -(1 << 27) + 1,
                    1 << 16,
                    -(1 << 16),
                    0xFFFF,
                ];
                (e[i % 8], e[(i / 2) % 8])
            } else {
                (next(), next())
            };
            let exact = round_shift(mul_wide(a, b), 24);
            let got = i64::from(mul_shift24(a, b));
            assert!((got - exact).abs() <= 1, "{a} * {b}: {got} vs {exact}");
        }
    }

    #[test]
    fn conversion_round_trips_and_rejects() {
        for x in [0.0f32, 1.0, -1.0, 0.5, 3.25, -2047.9, 1e-9, -1e-3, 1234.567] {
            let v = from_f32(x, 16, VALUE_MAX).unwrap();
            assert_eq!(v, (f64::from(x) * 65536.0).round() as i32, "{x}");
            assert!((to_f32(v, 16) - x).abs() <= 1.0 / 131072.0 + x.abs() * 1e-7);
        }
        assert_eq!(from_f32(f32::NAN, 16, VALUE_MAX), None);
        assert_eq!(from_f32(f32::INFINITY, 16, VALUE_MAX), None);
        assert_eq!(from_f32(2049.0, 16, VALUE_MAX), None);
        assert_eq!(from_f32(-1e30, 16, VALUE_MAX), None);
    }

    #[test]
    fn functions_within_their_documented_errors() {
        let unit = 1.0 / 65536.0;
        for i in 0..4000 {
            let x = -(i as f64) * 0.0061;
            let e = exp_neg(q(x)) as f64 / 65536.0;
            assert!((e - x.exp()).abs() <= 3.0 * unit, "exp({x}) = {e}");
        }
        for i in 0..4000 {
            let s = 1.0 + (i as f64) * 0.37;
            let l = ln_ge1(q(s)) as f64 / 65536.0;
            assert!((l - s.ln()).abs() <= 1.5 * unit, "ln({s}) = {l}");
        }
        for i in -3000..3000 {
            let x = i as f64 * 0.0057;
            let s = sigmoid(q(x)) as f64 / 65536.0;
            assert!(
                (s - 1.0 / (1.0 + (-x).exp())).abs() <= 2.0e-4,
                "sigmoid({x}) = {s}"
            );
            let t = tanh(q(x)) as f64 / 65536.0;
            assert!((t - x.tanh()).abs() <= 4.0e-4, "tanh({x}) = {t}");
        }
        for v in
            (0..40)
                .map(|i| (1u32 << (i % 32)) >> (i / 32))
                .chain([0, 1, 3, 0x00FF_FFFF, u32::MAX, 12345])
        {
            assert_eq!(leading_zeros(v), v.leading_zeros(), "{v}");
        }
        for i in 0..20_000u32 {
            let x = -(i as i32) * 73;
            let e = exp2_neg(x) as f64 / 65536.0;
            assert!(
                (e - (x as f64 / 65536.0).exp2()).abs() <= 1.5 * unit,
                "2^{x}: {e}"
            );
        }
        for s in (0..50_000u32)
            .map(|i| (1 << 16) + i.wrapping_mul(2_654_435_761) % (1 << 24))
            .chain([1 << 16, (1 << 16) + 1, 3 << 16, u32::MAX, 1 << 31, (1 << 31) + 7])
        {
            assert_eq!(recip_q32(s), u32::MAX / s, "1/{s}");
        }
        let mut r: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        for i in 0..100_000 {
            let (a, b) = (next() as u32 >> (1 + i % 20), next() as u32 >> (1 + i % 7));
            for s in [16u32, 20, 24, 29, 30, 31, 32] {
                let want = ((u64::from(a) * u64::from(b)) >> s).min(u64::from(u32::MAX)) as u32;
                assert_eq!(mul_shr_u(a, b, s), want, "{a} * {b} >> {s}");
                assert_eq!(mul_shr_u_split(a, b, s), want, "{a} * {b} >> {s}");
            }
            let (x, y) = (next() as i32 >> (i % 16), next() as i32 >> (8 + i % 16));
            let exact = round_shift(i64::from(x) * i64::from(y), 8);
            if exact.unsigned_abs() < 1 << 31 {
                assert_eq!(i64::from(mul_round8(x, y)), exact, "{x} * {y}");
                assert_eq!(i64::from(mul_round8_split(x, y)), exact, "{x} * {y}");
            }
        }
        for v in [0u64, 1, 2, 3, 4, 99, 100, 1 << 40, u64::MAX] {
            let r = isqrt_u64(v);
            assert!(u128::from(r) * u128::from(r) <= u128::from(v));
            assert!(u128::from(r + 1) * u128::from(r + 1) > u128::from(v));
        }
    }
}
