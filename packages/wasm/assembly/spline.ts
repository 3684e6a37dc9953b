// The LinearSpline / LinearSplineGrad kernels for the tfjs wasm backend, in AssemblyScript.
//
// ONE source, compiled into several binaries by scripts/build-wasm.mjs: with `--enable simd`
// the `ASC_FEATURE_SIMD` blocks below are compiled, without it they are removed at compile time
// and only the scalar loops remain. Every element goes through exactly the float64 operations
// of the JavaScript rule (packages/core/src/cpu_impl.ts), so results are bit-identical to the
// cpu kernel:
//
//   u = (x - start) / step
//   k = u >= K-2 ? K-2 : (u >= 0 ? floor(u) : 0)         (NaN -> 0: never out of range)
//   s = (c[k+1] - c[k]) / step,  t = start + k step,  a = (c[k] - t s) + 0    (per segment)
//   y  = s == 0 ? (x is NaN ? NaN : a) : a + x s
//   dx = x is NaN ? NaN : s dy
//   g  = (x - t) dy (1/step);  A[k] += dy - g;  B[k] += g     (float64 sums per segment, in order)
//   dc[0] = A[0],  dc[k] = A[k] + B[k-1],  dc[K-1] = B[K-2]
//
// Speed without changing a bit (SIMD build):
// - Segment index. The exact `u` needs a float64 division per element. Instead, 4 lanes at a
//   time, u' = x (1/step) - (start/step + 0.5) is computed in float32: it is within `delta`
//   (see `margin`) of u - 0.5, so where it lies more than 2 delta away from every half-integer,
//   round(u') IS floor(u). Adding 1.5 * 2^23 rounds it and leaves MAGIC_BITS + round(u') in the
//   bit pattern; clamping those bits (monotone in the value, so huge and negative lanes clamp to
//   the right end) to the grid gives the segment without a float-to-int conversion. Only vectors
//   with a lane near a knot (or a non-finite lane) take the exact path: float64 division, still
//   2 lanes per instruction. Exact zeros use the segment of 0, computed once per call.
// - Tables. `prepare` computes the per-segment (a, s) pairs once per call (O(C K)), so the
//   forward pass is one gather and one multiply-add per element. `prepareGrad` lays out
//   (t, s, A, B) per segment: the backward pass reads (t, s) and adds into (A, B) at the same
//   address, one 16-byte add per element (lanes of a shared spline may hit the same segment:
//   they go in element order, and same-address pairs forward cleanly in the CPU).
// - Loop constants are kept in a 112-byte header in front of the table and loaded in the loop:
//   V8 otherwise recomputes hoisted splats (even 1/step) inside the loop.
//
// The module imports the backend's memory (`env.memory`), owns no memory of its own: no data
// segments, no globals in memory, no allocation, no memory.grow. Every pointer is a byte
// offset into the backend's heap, allocated by the caller (tfjs `makeOutput` / `_malloc`).
// Header (16-byte splats): 0 1/step, 16 start/step + 0.5, 32 lim^2, 48 MAGIC, 64 MAGIC_BITS,
// 80 MAGIC_BITS + K-2, 96 MAGIC_BITS + segment of 0.
// Table layout: HEADER bytes, then for each spline row r and segment j < K-1 a pair of
// float64 (16 bytes; backward table: two pairs, 32 bytes), row stride K-1 entries.

// @ts-ignore: decorator
@inline const HEADER: usize = 112;
// 1.5 * 2^23: adding it to a float32 v with |v| < 2^22 rounds v to the nearest integer k and
// leaves the sum's bit pattern 0x4B400000 + k.
// @ts-ignore: decorator
@inline const MAGIC: f32 = 12582912.0;
// @ts-ignore: decorator
@inline const MAGIC_BITS: i32 = 0x4B400000;

/** Bytes of a forward table (header + pairs) for `C` splines of `K` coefficients. */
export function tableSize(C: i32, K: i32): i32 {
  return <i32>HEADER + C * (K - 1) * 16;
}

/** Bytes of a backward table (header + two pairs per segment). */
export function gradTableSize(C: i32, K: i32): i32 {
  return <i32>HEADER + C * (K - 1) * 32;
}

/**
 * How far (in units of u) the float32 estimate u' of u - 0.5 may be, times 16 for safety;
 * -1 where the estimate is not used (extreme grids). With i = fl32(1 / step) (relative error
 * e <= 2^-24) and b = fl32(start i + 0.5): u' = fl32(fl32(x i) - b). x i and start i carry the
 * same factor (1 + e), which moves u' by e |u|; the product's rounding adds 2^-24 |x| / step
 * <= 2^-24 (|u| + r) (r = |start| / step), the rounding of b 2^-24 (r + 0.5), the subtraction's
 * 2^-24 (|u| + 0.5). For |u| <= K that is below 2^-24 (3 K + 2 r + 2), and 16 times that is
 * below delta = 2^-20 (3 r + 4 K + 8). Larger |u| only need the right side of the clamp, which
 * a relative error of 2^-22 keeps. The step bounds keep 1/step a normal float32.
 */
// @ts-ignore: decorator
@inline function margin(start: f64, step: f64, K: i32): f64 {
  if (!(step > 8.673617379884035e-19 && step < 1.152921504606847e18) || K > (1 << 20)) return -1.0;
  const r = abs<f64>(start) / step;
  if (!(r < 1048576.0)) return -1.0;
  const d = 9.5367431640625e-7 * (3.0 * r + 4.0 * <f64>K + 8.0);
  return d < 0.125 ? d : -1.0;
}

// @ts-ignore: decorator
@inline function useInverse(inv: f64): bool {
  return inv >= 2.2250738585072014e-308 && inv < Infinity;
}

// @ts-ignore: decorator
@inline function segment(v: f64, start: f64, step: f64, km2: f64): f64 {
  const u = (v - start) / step;
  return u >= km2 ? km2 : (u >= 0.0 ? Math.floor(u) : 0.0);
}

/**
 * Fills the forward table at `tab` (see `tableSize`) from the float32 `[C, K]` coefficients
 * at `c`: per segment `(a, s)`.
 */
export function prepare(c: usize, tab: usize, C: i32, K: i32, start: f64, step: f64): void {
  for (let r: i32 = 0; r < C; ++r) {
    const row = c + ((<usize>r * <usize>K) << 2);
    const trow = tab + HEADER + ((<usize>r * <usize>(K - 1)) << 4);
    let c0 = <f64>load<f32>(row);
    for (let j: i32 = 0; j < K - 1; ++j) {
      const c1 = <f64>load<f32>(row + ((<usize>j + 1) << 2));
      const s = (c1 - c0) / step;
      // + 0 turns a -0 into +0, so that a + x * 0 == a on every path.
      store<f64>(trow + (<usize>j << 4), (c0 - (start + <f64>j * step) * s) + 0.0);
      store<f64>(trow + (<usize>j << 4), s, 8);
      c0 = c1;
    }
  }
}

/**
 * Fills the backward table at `tab` (see `gradTableSize`): per segment `(t, s)` and the two
 * float64 gradient sums `(A, B)`, zeroed.
 */
export function prepareGrad(c: usize, tab: usize, C: i32, K: i32, start: f64, step: f64): void {
  for (let r: i32 = 0; r < C; ++r) {
    const row = c + ((<usize>r * <usize>K) << 2);
    const trow = tab + HEADER + ((<usize>r * <usize>(K - 1)) << 5);
    let c0 = <f64>load<f32>(row);
    for (let j: i32 = 0; j < K - 1; ++j) {
      const c1 = <f64>load<f32>(row + ((<usize>j + 1) << 2));
      const p = trow + (<usize>j << 5);
      store<f64>(p, start + <f64>j * step);
      store<f64>(p, (c1 - c0) / step, 8);
      store<f64>(p, 0.0, 16);
      store<f64>(p, 0.0, 24);
      c0 = c1;
    }
  }
}

/**
 * Writes the float32 `[C, K]` coefficient gradient at `out` from the sums of a backward table:
 * `dc[0] = A[0]`, `dc[k] = A[k] + B[k-1]`, `dc[K-1] = B[K-2]`.
 */
export function finishGrad(tab: usize, out: usize, C: i32, K: i32): void {
  for (let r: i32 = 0; r < C; ++r) {
    const trow = tab + HEADER + ((<usize>r * <usize>(K - 1)) << 5);
    const orow = out + ((<usize>r * <usize>K) << 2);
    store<f32>(orow, <f32>load<f64>(trow, 16));
    for (let k: i32 = 1; k < K - 1; ++k) {
      const p = trow + (<usize>k << 5);
      store<f32>(orow + (<usize>k << 2), <f32>(load<f64>(p, 16) + load<f64>(p - 32, 24)));
    }
    store<f32>(orow + (<usize>(K - 1) << 2), <f32>load<f64>(trow + (<usize>(K - 2) << 5), 24));
  }
}

/**
 * Writes the loop constants of the float32 index estimate into the table header; returns
 * whether the SIMD loops may run (1/step is a normal float64).
 */
function header(tab: usize, K: i32, start: f64, step: f64): bool {
  const inv = 1.0 / step;
  const delta = margin(start, step, K);
  const lim = 0.5 - 2.0 * delta;
  if (ASC_FEATURE_SIMD) {
    v128.store(tab, f32x4.splat(<f32>inv));
    // start times the ROUNDED 1/step: x and start then carry the same relative error.
    v128.store(tab, f32x4.splat(<f32>(start * <f64><f32>inv + 0.5)), 16);
    // (u' - round(u'))^2 < lim^2 <=> safe; -1 (never safe) when the estimate is not used.
    v128.store(tab, f32x4.splat(delta >= 0.0 ? <f32>(lim * lim) : -1.0), 32);
    v128.store(tab, f32x4.splat(MAGIC), 48);
    v128.store(tab, i32x4.splat(MAGIC_BITS), 64);
    v128.store(tab, i32x4.splat(MAGIC_BITS + K - 2), 80);
    // The exact segment of x = ±0, so that exact zeros (ReLU outputs, padding) at a knot need
    // no division.
    v128.store(tab, i32x4.splat(MAGIC_BITS + <i32>segment(0.0, start, step, <f64>(K - 2))), 96);
  }
  return useInverse(inv);
}

// u' = x (1/step) - (start/step + 0.5), about u - 0.5, so that round(u') = floor(u).
// @ts-ignore: decorator
@inline function estimate(xv: v128, tab: usize): v128 {
  return f32x4.sub(f32x4.mul(xv, v128.load(tab)), v128.load(tab, 16));
}

// w = u' + MAGIC: its bits are MAGIC_BITS + round(u') for |u'| < 2^22.
// @ts-ignore: decorator
@inline function magic(u: v128, tab: usize): v128 {
  return f32x4.add(u, v128.load(tab, 48));
}

// All-ones lanes where round(u') is certainly floor(u); NaN/Inf lanes are never safe.
// @ts-ignore: decorator
@inline function safe(u: v128, w: v128, tab: usize): v128 {
  const d = f32x4.sub(u, f32x4.sub(w, v128.load(tab, 48)));
  return f32x4.lt(f32x4.mul(d, d), v128.load(tab, 32));
}

// MAGIC_BITS + clamped segment index, from w (bits are monotone in w, so huge lanes clamp right).
// @ts-ignore: decorator
@inline function fastIndex(w: v128, tab: usize): v128 {
  return i32x4.min_s(i32x4.max_s(w, v128.load(tab, 64)), v128.load(tab, 80));
}

// MAGIC_BITS + exact segment indices (i32x4) of 4 lanes by float64 division, as the scalar
// rule, so that they combine with the fast indices.
// @ts-ignore: decorator
@inline function exactIndex(v01: v128, v23: v128, start: v128, step: v128, tab: usize): v128 {
  const k01 = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.div(f64x2.sub(v01, start), step)));
  const k23 = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.div(f64x2.sub(v23, start), step)));
  const k = v128.shuffle<i32>(k01, k23, 0, 1, 4, 5);
  const km2 = i32x4.sub(v128.load(tab, 80), v128.load(tab, 64));
  return i32x4.add(i32x4.max_s(i32x4.min_s(k, km2), i32x4.splat(0)), v128.load(tab, 64));
}

// @ts-ignore: decorator
@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3));
}

// @ts-ignore: decorator
@inline function narrow(a: v128, b: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

// y of 2 lanes from their table pairs (a, s); `exact`: the lanes may be non-finite.
// @ts-ignore: decorator
@inline function line(v: v128, p0: v128, p1: v128, exact: bool): v128 {
  const a = v128.shuffle<f64>(p0, p1, 0, 2);
  const s = v128.shuffle<f64>(p0, p1, 1, 3);
  const y = f64x2.add(a, f64x2.mul(v, s));
  if (!exact) return y;  // finite x: a + x * 0 == a (a is never -0)
  const flat = v128.bitselect(a, f64x2.splat(NaN), f64x2.eq(v, v));
  return v128.bitselect(flat, y, f64x2.eq(s, f64x2.splat(0.0)));
}

// Forward of 4 lanes (x widened to float64: lanes 0-1 in `lo`, 2-3 in `hi`) -> `op`, given
// MAGIC_BITS + their segment indices and the table row bases minus MAGIC_BITS << 4.
// @ts-ignore: decorator
@inline function forward4(lo: v128, hi: v128, kb: v128, rows: v128, op: usize, exact: bool): void {
  const at = i32x4.add(rows, i32x4.shl(kb, 4));
  const p0 = v128.load(<usize><u32>i32x4.extract_lane(at, 0));
  const p1 = v128.load(<usize><u32>i32x4.extract_lane(at, 1));
  const p2 = v128.load(<usize><u32>i32x4.extract_lane(at, 2));
  const p3 = v128.load(<usize><u32>i32x4.extract_lane(at, 3));
  v128.store(op, narrow(line(lo, p0, p1, exact), line(hi, p2, p3, exact)));
}

// @ts-ignore: decorator
@inline function forward1(xp: usize, op: usize, trow: usize, start: f64, step: f64, km2: f64): void {
  const v = <f64>load<f32>(xp);
  const p = trow + (<usize><i32>segment(v, start, step, km2) << 4);
  const a = load<f64>(p);
  const s = load<f64>(p, 8);
  store<f32>(op, <f32>(s == 0.0 ? (v == v ? a : NaN) : a + v * s));
}

/**
 * Forward pass over `n` float32 values at `x` (last axis of size `channels`), table `tab`
 * from `prepare` for `C` splines (`C == channels` or `C == 1`), output float32 at `out`.
 */
export function forward(x: usize, tab: usize, out: usize, n: i32, C: i32, channels: i32, K: i32,
    start: f64, step: f64): void {
  if (n <= 0) return;
  const rowLen: i32 = C == 1 ? n : channels;
  const stride: i32 = C == 1 ? 0 : (K - 1) << 4;
  const km2 = <f64>(K - 2);
  const simd = header(tab, K, start, step);
  const rows0 = tab + HEADER;
  for (let row: i32 = 0; row < n; row += rowLen) {
    const xr = x + (<usize>row << 2);
    const or = out + (<usize>row << 2);
    let ch: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      if (simd) {
        const r0 = <i32>rows0 - (MAGIC_BITS << 4);
        let rows = i32x4(r0, r0 + stride, r0 + 2 * stride, r0 + 3 * stride);
        const next = i32x4.splat(stride << 2);
        for (; ch + 8 <= rowLen; ch += 8) {
          const xp = xr + (<usize>ch << 2);
          const xa = v128.load(xp);
          const xb = v128.load(xp, 16);
          const ua = estimate(xa, tab);
          const ub = estimate(xb, tab);
          const wa = magic(ua, tab);
          const wb = magic(ub, tab);
          const sa = safe(ua, wa, tab);
          const sb = safe(ub, wb, tab);
          const rowsb = i32x4.add(rows, next);
          const op = or + (<usize>ch << 2);
          if (i32x4.bitmask(v128.and(sa, sb)) == 15) {
            forward4(low(xa), high(xa), fastIndex(wa, tab), rows, op, false);
            forward4(low(xb), high(xb), fastIndex(wb, tab), rowsb, op + 16, false);
          } else {
            forwardEither(xa, xp, wa, sa, rows, op, start, step, tab);
            forwardEither(xb, xp + 16, wb, sb, rowsb, op + 16, start, step, tab);
          }
          rows = i32x4.add(rowsb, next);
        }
        if (ch + 4 <= rowLen) {
          const xp = xr + (<usize>ch << 2);
          const xa = v128.load(xp);
          const ua = estimate(xa, tab);
          const wa = magic(ua, tab);
          forwardEither(xa, xp, wa, safe(ua, wa, tab), rows, or + (<usize>ch << 2), start, step, tab);
          ch += 4;
        }
      }
    }
    for (; ch < rowLen; ++ch) {
      forward1(xr + (<usize>ch << 2), or + (<usize>ch << 2), rows0 + <usize>ch * <usize>stride,
        start, step, km2);
    }
  }
}

// MAGIC_BITS + segment indices of 4 lanes whose only unsafe lanes hold ±0 (see `zerosOnly`).
// @ts-ignore: decorator
@inline function zeroIndex(xv: v128, w: v128, tab: usize): v128 {
  const z = f32x4.eq(xv, f32x4.splat(0.0));
  return v128.bitselect(v128.load(tab, 96), fastIndex(w, tab), z);
}

// Whether every lane is safe or ±0.
// @ts-ignore: decorator
@inline function zerosOnly(xv: v128, ok: v128): bool {
  return i32x4.bitmask(v128.or(ok, f32x4.eq(xv, f32x4.splat(0.0)))) == 15;
}

// x is widened again from memory here (not from `xv`), so that V8 does not hoist the fast
// path's widening above the branch and spill it.
// @ts-ignore: decorator
@inline function forwardEither(xv: v128, xp: usize, w: v128, ok: v128, rows: v128, op: usize,
    start: f64, step: f64, tab: usize): void {
  const lo = f64x2.promote_low_f32x4(v128.load64_zero(xp));
  const hi = f64x2.promote_low_f32x4(v128.load64_zero(xp + 8));
  if (zerosOnly(xv, ok)) {
    forward4(lo, hi, zeroIndex(xv, w, tab), rows, op, false);
  } else {
    forward4(lo, hi, exactIndex(lo, hi, f64x2.splat(start), f64x2.splat(step), tab), rows, op,
      true);
  }
}

// dx of 2 lanes at table entries p0, p1 (t, s, A, B), whose sums (A, B) get (dy - g, g), in
// lane order; `exact`: the lanes may be non-finite.
// @ts-ignore: decorator
@inline function grad2(v: v128, g0: v128, p0: usize, p1: usize, inv: v128, exact: bool): v128 {
  const q0 = v128.load(p0);
  const q1 = v128.load(p1);
  const t = v128.shuffle<f64>(q0, q1, 0, 2);
  const s = v128.shuffle<f64>(q0, q1, 1, 3);
  const g = f64x2.mul(f64x2.mul(f64x2.sub(v, t), g0), inv);
  const h = f64x2.sub(g0, g);
  v128.store(p0, f64x2.add(v128.load(p0, 16), v128.shuffle<f64>(h, g, 0, 2)), 16);
  v128.store(p1, f64x2.add(v128.load(p1, 16), v128.shuffle<f64>(h, g, 1, 3)), 16);
  const dx = f64x2.mul(s, g0);
  return exact ? v128.bitselect(dx, f64x2.splat(NaN), f64x2.eq(v, v)) : dx;
}

// @ts-ignore: decorator
@inline function backward4(xv: v128, gv: v128, k: v128, rows: v128, dxp: usize, inv: v128,
    exact: bool): void {
  const at = i32x4.add(rows, i32x4.shl(k, 5));  // k: MAGIC_BITS + index; rows adjusted
  const d01 = grad2(low(xv), low(gv), <usize><u32>i32x4.extract_lane(at, 0),
    <usize><u32>i32x4.extract_lane(at, 1), inv, exact);
  const d23 = grad2(high(xv), high(gv), <usize><u32>i32x4.extract_lane(at, 2),
    <usize><u32>i32x4.extract_lane(at, 3), inv, exact);
  v128.store(dxp, narrow(d01, d23));
}

// @ts-ignore: decorator
@inline function backward1(dyp: usize, xp: usize, dxp: usize, trow: usize, start: f64, step: f64,
    inv: f64, useInv: bool, km2: f64): void {
  const v = <f64>load<f32>(xp);
  const g0 = <f64>load<f32>(dyp);
  const p = trow + (<usize><i32>segment(v, start, step, km2) << 5);
  const t = load<f64>(p);
  const s = load<f64>(p, 8);
  store<f32>(dxp, v == v ? <f32>(s * g0) : <f32>NaN);
  const g = useInv ? (v - t) * g0 * inv : (v - t) * g0 / step;
  store<f64>(p, load<f64>(p, 16) + (g0 - g), 16);
  store<f64>(p, load<f64>(p, 24) + g, 24);
}

/**
 * Backward pass: writes `dx` (float32, like `x`) and adds the coefficient gradient's parts into
 * the sums of the table `tab` from `prepareGrad` (read them out with `finishGrad`).
 */
export function backward(dy: usize, x: usize, tab: usize, dx: usize, n: i32, C: i32,
    channels: i32, K: i32, start: f64, step: f64): void {
  if (n <= 0) return;
  const rowLen: i32 = C == 1 ? n : channels;
  const stride: i32 = C == 1 ? 0 : (K - 1) << 5;
  const km2 = <f64>(K - 2);
  const inv = 1.0 / step;
  const useInv = useInverse(inv);
  const simd = header(tab, K, start, step);
  const rows0 = tab + HEADER;
  for (let row: i32 = 0; row < n; row += rowLen) {
    const off = <usize>row << 2;
    let ch: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      if (simd) {
        const vstart = f64x2.splat(start);
        const vstep = f64x2.splat(step);
        const vinv = f64x2.splat(inv);
        const r0 = <i32>rows0 - (MAGIC_BITS << 5);
        let rows = i32x4(r0, r0 + stride, r0 + 2 * stride, r0 + 3 * stride);
        const next = i32x4.splat(stride << 2);
        for (; ch + 4 <= rowLen; ch += 4) {
          const e = off + (<usize>ch << 2);
          const xv = v128.load(x + e);
          const gv = v128.load(dy + e);
          const uc = estimate(xv, tab);
          const fl = magic(uc, tab);
          const ok = safe(uc, fl, tab);
          if (i32x4.bitmask(ok) == 15) {
            backward4(xv, gv, fastIndex(fl, tab), rows, dx + e, vinv, false);
          } else if (zerosOnly(xv, ok)) {
            backward4(xv, gv, zeroIndex(xv, fl, tab), rows, dx + e, vinv, false);
          } else {
            backward4(xv, gv, exactIndex(low(xv), high(xv), vstart, vstep, tab), rows, dx + e,
              vinv, true);
          }
          rows = i32x4.add(rows, next);
        }
      }
    }
    for (; ch < rowLen; ++ch) {
      const e = off + (<usize>ch << 2);
      backward1(dy + e, x + e, dx + e, rows0 + <usize>ch * <usize>stride, start, step, inv,
        useInv, km2);
    }
  }
}
