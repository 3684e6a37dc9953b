/**
 * The spline kernels on plain typed arrays: the single source of the per-element rule for
 * JavaScript. Used by the cpu backend's kernels; the wasm kernels compute exactly the same
 * float64 operations (bit-identical results), other backends implement the same rule.
 *
 * Per element (this package's README, "Semantics"), with `K` coefficients `c`, knots `t_k = start + k * step`:
 * ```
 * u = (x - start) / step
 * k = u >= K-2 ? K-2 : (u >= 0 ? floor(u) : 0)   // NaN compares false: k = 0, never out of range
 * s = (c[k+1] - c[k]) / step                      // slope of the segment (NaN if c[k] or
 *                                                 // c[k+1] is not finite: y = dx = NaN)
 * a = (c[k] - t_k * s) + 0                        // the segment's line a + x s (+0 for -0)
 * y = s == 0 ? (x is NaN ? NaN : a) : a + x * s
 * ```
 * `a + x s` is the reference's `c[k] + f (c[k+1] - c[k])` with `f = u - k` (the line through
 * the two coefficients); written this way a kernel can tabulate `(a, s)` per segment and spend
 * one multiply-add per element; it stays finite for huge finite `x` wherever the true value is
 * finite, and a flat end segment gives its end value for `x = ±Inf` (instead of `Inf * 0 = NaN`).
 * A flat segment at a coefficient `-0` gives `+0` (as the reference's `-0 + f * 0` does); no
 * output is ever `-0`.
 * Backward: `dx = s dy` (NaN where x is NaN); with `g = (x - t_k) dy (1 / step)` (= `f dy`;
 * divided by `step` where `1 / step` is not a normal number), each segment sums
 * `A[k] += dy - g` (= `(1 - f) dy`) and `B[k] += g`, in element order, and
 * `dc[k] = A[k] + B[k-1]` (`dc[0] = A[0]`, `dc[K-1] = B[K-2]`).
 *
 * Arithmetic is float64 (JavaScript numbers); results are rounded once to float32 when stored.
 */

/**
 * The slope of the segment from `c0` to `c1`: NaN when either is ±Inf or NaN, so that the
 * segment gives NaN for every input (`x - x` is 0 exactly for finite `x`).
 */
function slope(c0: number, c1: number, step: number): number {
  return (c0 - c0) + (c1 - c1) === 0 ? (c1 - c0) / step : NaN;
}

/**
 * Forward pass. `x` holds `n` values whose last axis has `channels` entries; `c` is `[C, K]`
 * row-major with `C = channels` or `C = 1`.
 */
export function linearSplineForwardImpl(
    x: Float32Array, c: Float32Array, C: number, K: number, start: number, step: number,
    out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  const km2 = K - 2;
  const channels = C === 1 ? 1 : C;
  for (let row = 0; row < n; row += channels) {
    for (let ch = 0; ch < channels; ++ch) {
      const i = row + ch;
      const v = x[i];
      const u = (v - start) / step;
      const k = u >= km2 ? km2 : (u >= 0 ? Math.floor(u) : 0);
      const b = ch * K + k;
      const c0 = c[b];
      const s = slope(c0, c[b + 1], step);
      const a = (c0 - (start + k * step) * s) + 0;
      out[i] = s === 0 ? (v === v ? a : NaN) : a + v * s;
    }
  }
  return out;
}

/**
 * Backward pass: writes `dx` (same length as `x`) and returns `dc` (`[C, K]`), accumulating
 * the coefficient gradient in float64 (per segment, see above).
 */
export function linearSplineGradImpl(
    dy: Float32Array, x: Float32Array, c: Float32Array, C: number, K: number, start: number,
    step: number, dx: Float32Array = new Float32Array(x.length)):
    {dx: Float32Array, dc: Float32Array} {
  const n = x.length;
  const km2 = K - 2;
  const channels = C === 1 ? 1 : C;
  const inv = 1 / step;
  const useInv = inv >= 2.2250738585072014e-308 && inv < Infinity;
  const A = new Float64Array(C * (K - 1));
  const B = new Float64Array(C * (K - 1));
  for (let row = 0; row < n; row += channels) {
    for (let ch = 0; ch < channels; ++ch) {
      const i = row + ch;
      const v = x[i];
      const g0 = dy[i];
      const u = (v - start) / step;
      const k = u >= km2 ? km2 : (u >= 0 ? Math.floor(u) : 0);
      const b = ch * K + k;
      const s = slope(c[b], c[b + 1], step);
      dx[i] = v === v ? s * g0 : NaN;
      const d = v - (start + k * step);
      const g = useInv ? d * g0 * inv : d * g0 / step;
      const j = ch * (K - 1) + k;
      A[j] += g0 - g;
      B[j] += g;
    }
  }
  const dc = new Float32Array(C * K);
  for (let r = 0; r < C; ++r) {
    const j = r * (K - 1);
    dc[r * K] = A[j];
    for (let k = 1; k < K - 1; ++k) dc[r * K + k] = A[j + k] + B[j + k - 1];
    dc[r * K + K - 1] = B[j + K - 2];
  }
  return {dx, dc};
}
