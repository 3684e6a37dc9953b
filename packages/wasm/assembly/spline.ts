// The LinearSpline / LinearSplineGrad kernels for the tfjs wasm backend, in AssemblyScript.
//
// ONE source, compiled into several binaries by scripts/build-wasm.mjs: with `--enable simd`
// the `ASC_FEATURE_SIMD` blocks below are compiled (f64x2 arithmetic, 4 elements per
// iteration), without it they are removed at compile time and only the scalar loops remain.
// Both paths compute every element with exactly the same float64 operations in the same order
// as the JavaScript reference (packages/core/src/cpu_impl.ts), so results are bit-identical
// to the cpu kernel:
//
//   u  = (x - start) / step
//   k  = u >= K-2 ? K-2 : (u >= 0 ? floor(u) : 0)        (NaN -> 0: never out of range)
//   s  = (c[k+1] - c[k]) / step                         (precomputed per segment by `prepare`)
//   y  = s == 0 ? (x is NaN ? NaN : c[k]) : c[k] + (x - (start + k step)) s
//   dx = x is NaN ? NaN : s dy
//   g  = (x - (start + k step)) dy / step;  dc[k] += dy - g;  dc[k+1] += g   (float64 sums)
//
// Speed without changing a bit: `u` is first computed as (x - start) * (1 / step), within
// 4e-16 relative of the quotient. Where that product lies more than 1e-7 away from every
// integer (so floor and the clamps to 0 and K-2 cannot differ; K < 2^23), it is used as is;
// otherwise (a knot within reach, huge |u|, or a non-finite x) the exact quotient is computed.
// The SIMD path decides this per vector of 4 and, for vectors on the fast path (finite x),
// also skips the NaN/flat-segment selects, which cannot change the result there unless a
// flat segment starts at -0 (see `careful`).
//
// The module imports the backend's memory (`env.memory`), owns no memory of its own: no data
// segments, no globals in memory, no allocation, no memory.grow. Every pointer is a byte
// offset into the backend's heap, allocated by the caller (tfjs `makeOutput` / `_malloc`).
// Table layout (`tab`): for each spline row r and segment j, the pair (c[r,j], s[r,j]) as two
// float64 (16 bytes), row stride K pairs. The backward pass needs only the slopes: `slopes`
// writes them alone (8 bytes each, row stride K), which halves its table's cache footprint.

/**
 * Fills the (coefficient, slope) table for `C` splines of `K` float32 coefficients at `c`.
 * Returns 1 if some flat segment (slope 0) starts at a coefficient -0: there `c0 + 0 * t`
 * would give +0 instead of the rule's `c0` = -0, so the forward pass must use its selects.
 */
export function prepare(c: usize, tab: usize, C: i32, K: i32, step: f64): i32 {
  let careful: i32 = 0;
  for (let r: i32 = 0; r < C; ++r) {
    const row = c + ((<usize>r * <usize>K) << 2);
    const trow = tab + ((<usize>r * <usize>K) << 4);
    let c0 = <f64>load<f32>(row);
    for (let j: i32 = 0; j < K - 1; ++j) {
      const c1 = <f64>load<f32>(row + ((<usize>j + 1) << 2));
      const slope = (c1 - c0) / step;
      store<f64>(trow + (<usize>j << 4), c0);
      store<f64>(trow + (<usize>j << 4), slope, 8);
      if (slope == 0.0 && c0 == 0.0 && (reinterpret<i64>(c0) < 0)) careful = 1;
      c0 = c1;
    }
    store<f64>(trow + (<usize>(K - 1) << 4), c0);
    store<f64>(trow + (<usize>(K - 1) << 4), 0.0, 8);
  }
  return careful;
}

/** Fills `tab` with the `C * K` slopes (c[k+1] - c[k]) / step (0 for k = K-1), float64. */
export function slopes(c: usize, tab: usize, C: i32, K: i32, step: f64): void {
  for (let r: i32 = 0; r < C; ++r) {
    const row = c + ((<usize>r * <usize>K) << 2);
    const trow = tab + ((<usize>r * <usize>K) << 3);
    let c0 = <f64>load<f32>(row);
    for (let j: i32 = 0; j < K - 1; ++j) {
      const c1 = <f64>load<f32>(row + ((<usize>j + 1) << 2));
      store<f64>(trow + (<usize>j << 3), (c1 - c0) / step);
      c0 = c1;
    }
    store<f64>(trow + (<usize>(K - 1) << 3), 0.0);
  }
}

/**
 * 1 / step when the multiply-then-check shortcut is valid (1 / step a normal number and
 * K < 2^23), else 0 (always divide).
 */
// @ts-ignore: decorator
@inline function inverse(step: f64, K: i32): f64 {
  const inv = 1.0 / step;
  return inv >= 2.2250738585072014e-308 && inv < Infinity && K < (1 << 23) ? inv : 0.0;
}

// How far from every integer the product must be to be used instead of the quotient.
// @ts-ignore: decorator
@inline const HALF_GAP: f64 = 0.5 - 1e-7;

// @ts-ignore: decorator
@inline function segment(v: f64, start: f64, step: f64, inv: f64, km2: f64): f64 {
  const q = v - start;
  let u = q * inv;
  if (!(abs<f64>(u - Math.floor(u) - 0.5) < HALF_GAP)) u = q / step;  // also when inv == 0
  return u >= km2 ? km2 : (u >= 0.0 ? Math.floor(u) : 0.0);
}

// @ts-ignore: decorator
@inline function forward1(xp: usize, op: usize, trow: usize, start: f64, step: f64, inv: f64,
    km2: f64): void {
  const v = <f64>load<f32>(xp);
  const kf = segment(v, start, step, inv, km2);
  const p = trow + (<usize><i32>kf << 4);
  const c0 = load<f64>(p);
  const s = load<f64>(p, 8);
  const y = s == 0.0 ? (v == v ? c0 : NaN) : c0 + (v - (start + kf * step)) * s;
  store<f32>(op, <f32>y);
}

// @ts-ignore: decorator
@inline function backward1(dyp: usize, xp: usize, dxp: usize, trow: usize, arow: usize,
    start: f64, step: f64, inv: f64, km2: f64): void {
  const v = <f64>load<f32>(xp);
  const g0 = <f64>load<f32>(dyp);
  const kf = segment(v, start, step, inv, km2);
  const k = <usize><i32>kf;
  const s = load<f64>(trow + (k << 3));
  store<f32>(dxp, v == v ? <f32>(s * g0) : <f32>NaN);
  const g = (v - (start + kf * step)) * g0 / step;
  const a = arow + (k << 3);
  store<f64>(a, load<f64>(a) + (g0 - g));
  store<f64>(a, load<f64>(a, 8) + g, 8);
}

// @ts-ignore: decorator
@inline function kIndex(u: v128, km2: v128): v128 {
  // u >= K-2 -> K-2; 0 <= u < K-2 -> floor(u); u < 0 or NaN -> +0 (mask is all-zero bits).
  return v128.and(f64x2.pmin(f64x2.floor(u), km2), f64x2.ge(u, f64x2.splat(0.0)));
}

// Lanes whose product is safely inside a segment: |frac(u) - 0.5| < HALF_GAP (false for
// NaN and ±Inf, true for no integer-valued u).
// @ts-ignore: decorator
@inline function inside(u: v128): v128 {
  return f64x2.lt(f64x2.abs(f64x2.sub(f64x2.sub(u, f64x2.floor(u)), f64x2.splat(0.5))),
    f64x2.splat(HALF_GAP));
}

// 2^52: adding it to an integer-valued f64 in [0, 2^31) leaves the integer in the low bits.
// @ts-ignore: decorator
@inline const MAGIC: f64 = 4503599627370496.0;

// @ts-ignore: decorator
@inline function forward2(v: v128, kf: v128, ta: usize, tb: usize, start: v128, step: v128,
    exact: bool): v128 {
  const kb = f64x2.add(kf, f64x2.splat(MAGIC));
  const pa = v128.load(ta + (<usize><u32>i64x2.extract_lane(kb, 0) << 4));
  const pb = v128.load(tb + (<usize><u32>i64x2.extract_lane(kb, 1) << 4));
  const c0 = v128.shuffle<f64>(pa, pb, 0, 2);
  const s = v128.shuffle<f64>(pa, pb, 1, 3);
  const y = f64x2.add(c0, f64x2.mul(f64x2.sub(v, f64x2.add(start, f64x2.mul(kf, step))), s));
  if (!exact) return y;
  const flat = v128.bitselect(c0, f64x2.splat(NaN), f64x2.eq(v, v));
  return v128.bitselect(flat, y, f64x2.eq(s, f64x2.splat(0.0)));
}

// @ts-ignore: decorator
@inline function backward2(v: v128, g0: v128, kf: v128, ta: usize, tb: usize, aa: usize,
    ab: usize, start: v128, step: v128, exact: bool): v128 {
  const kbits = f64x2.add(kf, f64x2.splat(MAGIC));
  const ka = <usize><u32>i64x2.extract_lane(kbits, 0);
  const kb = <usize><u32>i64x2.extract_lane(kbits, 1);
  const s = f64x2.replace_lane(f64x2.splat(load<f64>(ta + (ka << 3))), 1,
    load<f64>(tb + (kb << 3)));
  const g = f64x2.div(f64x2.mul(f64x2.sub(v, f64x2.add(start, f64x2.mul(kf, step))), g0), step);
  const h = f64x2.sub(g0, g);
  // Same order as the scalar rule: element a's two sums, then element b's.
  const pa = aa + (ka << 3);
  store<f64>(pa, load<f64>(pa) + f64x2.extract_lane(h, 0));
  store<f64>(pa, load<f64>(pa, 8) + f64x2.extract_lane(g, 0), 8);
  const pb = ab + (kb << 3);
  store<f64>(pb, load<f64>(pb) + f64x2.extract_lane(h, 1));
  store<f64>(pb, load<f64>(pb, 8) + f64x2.extract_lane(g, 1), 8);
  const dx = f64x2.mul(s, g0);
  return exact ? v128.bitselect(dx, f64x2.splat(NaN), f64x2.eq(v, v)) : dx;
}

/**
 * Forward pass over `n` float32 values at `x` (last axis of size `channels`), table `tab`
 * from `prepare` for `C` splines (`C == channels` or `C == 1`), output float32 at `out`.
 * `careful`: what `prepare` returned.
 */
export function forward(x: usize, tab: usize, out: usize, n: i32, C: i32, channels: i32, K: i32,
    start: f64, step: f64, careful: i32): void {
  if (n <= 0) return;
  const rowLen: i32 = C == 1 ? n : channels;
  const stride: usize = C == 1 ? 0 : (<usize>K << 4);
  const km2 = <f64>(K - 2);
  const inv = inverse(step, K);
  for (let row: i32 = 0; row < n; row += rowLen) {
    const xr = x + (<usize>row << 2);
    const or = out + (<usize>row << 2);
    let ch: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      const vstart = f64x2.splat(start);
      const vstep = f64x2.splat(step);
      const vinv = f64x2.splat(inv);
      const vkm2 = f64x2.splat(km2);
      for (; ch + 4 <= rowLen; ch += 4) {
        const t0 = tab + <usize>ch * stride;
        const xv = v128.load(xr + (<usize>ch << 2));
        const v01 = f64x2.promote_low_f32x4(xv);
        const v23 = f64x2.promote_low_f32x4(v128.shuffle<i32>(xv, xv, 2, 3, 2, 3));
        const q01 = f64x2.sub(v01, vstart);
        const q23 = f64x2.sub(v23, vstart);
        let u01 = f64x2.mul(q01, vinv);
        let u23 = f64x2.mul(q23, vinv);
        // inv == 0 makes u 0 (or NaN): never inside, so that case always divides.
        let exact = !i64x2.all_true(v128.and(inside(u01), inside(u23)));
        if (exact) {
          u01 = f64x2.div(q01, vstep);
          u23 = f64x2.div(q23, vstep);
        }
        // Selects only where they can matter: a non-finite input or a -0 flat segment.
        exact = exact || careful != 0;
        const y01 = forward2(v01, kIndex(u01, vkm2), t0, t0 + stride, vstart, vstep, exact);
        const y23 = forward2(v23, kIndex(u23, vkm2), t0 + 2 * stride, t0 + 3 * stride, vstart,
          vstep, exact);
        v128.store(or + (<usize>ch << 2), v128.shuffle<i32>(
          f32x4.demote_f64x2_zero(y01), f32x4.demote_f64x2_zero(y23), 0, 1, 4, 5));
      }
    }
    for (; ch < rowLen; ++ch) {
      forward1(xr + (<usize>ch << 2), or + (<usize>ch << 2), tab + <usize>ch * stride,
        start, step, inv, km2);
    }
  }
}

/**
 * Backward pass: writes `dx` (float32, like `x`) and ADDS the coefficient gradient into the
 * float64 accumulator `acc` (`C * K` values, zeroed by the caller with `clear`); `tab` is the
 * slope table from `slopes`.
 */
export function backward(dy: usize, x: usize, tab: usize, dx: usize, acc: usize, n: i32, C: i32,
    channels: i32, K: i32, start: f64, step: f64): void {
  if (n <= 0) return;
  const rowLen: i32 = C == 1 ? n : channels;
  const stride: usize = C == 1 ? 0 : (<usize>K << 3);  // slope table from `slopes`
  const astride: usize = C == 1 ? 0 : (<usize>K << 3);
  const km2 = <f64>(K - 2);
  const inv = inverse(step, K);
  for (let row: i32 = 0; row < n; row += rowLen) {
    const off = <usize>row << 2;
    let ch: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      const vstart = f64x2.splat(start);
      const vstep = f64x2.splat(step);
      const vinv = f64x2.splat(inv);
      const vkm2 = f64x2.splat(km2);
      for (; ch + 4 <= rowLen; ch += 4) {
        const t0 = tab + <usize>ch * stride;
        const a0 = acc + <usize>ch * astride;
        const e = off + (<usize>ch << 2);
        const xv = v128.load(x + e);
        const gv = v128.load(dy + e);
        const v01 = f64x2.promote_low_f32x4(xv);
        const v23 = f64x2.promote_low_f32x4(v128.shuffle<i32>(xv, xv, 2, 3, 2, 3));
        const q01 = f64x2.sub(v01, vstart);
        const q23 = f64x2.sub(v23, vstart);
        let u01 = f64x2.mul(q01, vinv);
        let u23 = f64x2.mul(q23, vinv);
        const exact = !i64x2.all_true(v128.and(inside(u01), inside(u23)));
        if (exact) {
          u01 = f64x2.div(q01, vstep);
          u23 = f64x2.div(q23, vstep);
        }
        const d01 = backward2(v01, f64x2.promote_low_f32x4(gv), kIndex(u01, vkm2),
          t0, t0 + stride, a0, a0 + astride, vstart, vstep, exact);
        const d23 = backward2(v23, f64x2.promote_low_f32x4(v128.shuffle<i32>(gv, gv, 2, 3, 2, 3)),
          kIndex(u23, vkm2), t0 + 2 * stride, t0 + 3 * stride, a0 + 2 * astride,
          a0 + 3 * astride, vstart, vstep, exact);
        v128.store(dx + e, v128.shuffle<i32>(
          f32x4.demote_f64x2_zero(d01), f32x4.demote_f64x2_zero(d23), 0, 1, 4, 5));
      }
    }
    for (; ch < rowLen; ++ch) {
      const e = off + (<usize>ch << 2);
      backward1(dy + e, x + e, dx + e, tab + <usize>ch * stride, acc + <usize>ch * astride,
        start, step, inv, km2);
    }
  }
}

/** Sets `count` float64 values at `acc` to 0. */
export function clear(acc: usize, count: i32): void {
  for (let i: i32 = 0; i < count; ++i) store<f64>(acc + (<usize>i << 3), 0.0);
}

/** Rounds `count` float64 values at `acc` to float32 at `out`. */
export function round(acc: usize, out: usize, count: i32): void {
  for (let i: i32 = 0; i < count; ++i) {
    store<f32>(out + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
  }
}
