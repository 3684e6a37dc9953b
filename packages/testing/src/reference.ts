/**
 * The float64 reference of the spline op, written from the rule in the Semantics section of
 * `packages/core/README.md` (`u = (x - start) / step`, `k = clamp(floor(u), 0, K - 2)`,
 * `f = u - k`, `y = c[k] + f (c[k+1] - c[k])`, and its special cases), not from any kernel's
 * code: every implementation is held to it.
 */

/** One call of the op: flat float32 data, `c` row-major `[C, K]`, channels on the last axis. */
export interface SplineCase {
  /** A label for messages. */
  name?: string;
  /** Shape of `x` (and of `dy`). */
  xShape: number[];
  /** Rows of the coefficients: the last-axis size of `x`, or 1 (shared). */
  C: number;
  /** Coefficients per spline. */
  K: number;
  /** First knot. */
  start: number;
  /** Knot spacing. */
  step: number;
  /** Input values. */
  x: Float32Array;
  /** Coefficients, `C * K` values. */
  c: Float32Array;
  /** Upstream gradient, as many values as `x`. */
  dy: Float32Array;
}

/** The size of the last axis of `shape` (1 for a scalar). */
export function channelsOf(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1];
}

/** Where element `i` reads its spline: its row and segment, and `f = u - k` (float64). */
export function locate(s: SplineCase, i: number): {row: number, k: number, f: number} {
  const channels = channelsOf(s.xShape);
  const row = s.C === 1 ? 0 : i % channels;
  const x = s.x[i];
  const u = (x - s.start) / s.step;
  // NaN: segment 0 (the Semantics: NaN poisons that channel's first coefficient pair)
  const k = Number.isNaN(u) ? 0 : Math.min(Math.max(Math.floor(u), 0), s.K - 2);
  const f = Number.isFinite(x) ? (x - (s.start + k * s.step)) / s.step : u - k;
  return {row, k, f};
}

/** `y` of every element, in float64, with the special cases of the Semantics. */
export function referenceForward(s: SplineCase): Float64Array {
  const y = new Float64Array(s.x.length);
  for (let i = 0; i < y.length; ++i) {
    const x = s.x[i];
    const {row, k, f} = locate(s, i);
    const c0 = s.c[row * s.K + k];
    const c1 = s.c[row * s.K + k + 1];
    let v: number;
    if (Number.isNaN(x) || !Number.isFinite(c0) || !Number.isFinite(c1)) v = NaN;
    else if (c1 === c0) v = c0;                                // flat: ±Inf gives the end value
    else if (!Number.isFinite(x)) v = x * Math.sign(c1 - c0);  // the limit of a sloped end
    else v = c0 + f * (c1 - c0);
    y[i] = v === 0 ? 0 : v;                                    // never -0
  }
  return y;
}

/**
 * `dx` (IEEE signs kept), `dc` (never -0) and, per coefficient, the scale of its rounding
 * error: the sum over the terms summed into it of `|term| + |dy|`, all in float64.
 */
export function referenceBackward(s: SplineCase): {dx: Float64Array, dc: Float64Array,
    dcScale: Float64Array} {
  const dx = new Float64Array(s.x.length);
  const dc = new Float64Array(s.C * s.K);
  const dcScale = new Float64Array(s.C * s.K);
  for (let i = 0; i < dx.length; ++i) {
    const x = s.x[i];
    const dy = s.dy[i];
    const {row, k, f} = locate(s, i);
    const c0 = s.c[row * s.K + k];
    const c1 = s.c[row * s.K + k + 1];
    dx[i] = Number.isNaN(x) || !Number.isFinite(c0) || !Number.isFinite(c1) ? NaN :
      ((c1 - c0) / s.step) * dy;
    const j = row * s.K + k;
    const a = (1 - f) * dy;
    const b = f * dy;
    dc[j] += a;
    dc[j + 1] += b;
    // |dy| too: kernels may form (1 - f) dy as dy - f dy, which cancels when f is near 1
    dcScale[j] += Math.abs(a) + Math.abs(dy);
    dcScale[j + 1] += Math.abs(b) + Math.abs(dy);
  }
  for (let j = 0; j < dc.length; ++j) if (dc[j] === 0) dc[j] = 0;
  return {dx, dc, dcScale};
}

/** Per coefficient, the sum of `|dy|` over the elements of its row (a looser dc scale). */
export function rowSumAbsDy(s: SplineCase): Float64Array {
  const channels = channelsOf(s.xShape);
  const perRow = new Float64Array(s.C);
  for (let i = 0; i < s.dy.length; ++i) {
    if (Number.isFinite(s.dy[i])) perRow[s.C === 1 ? 0 : i % channels] += Math.abs(s.dy[i]);
  }
  return Float64Array.from({length: s.C * s.K}, (_v, j) => perRow[Math.floor(j / s.K)]);
}

/** The spline value at `x` for one coefficient row `c` (finite values), float64. */
export function splineValue(c: ArrayLike<number>, start: number, step: number, x: number): number {
  const K = c.length;
  const u = (x - start) / step;
  const k = Math.min(Math.max(Math.floor(u), 0), K - 2);
  return c[k] + (u - k) * (c[k + 1] - c[k]);
}

/** TV(2) of one spline: `sum_k |c[k-1] - 2 c[k] + c[k+1]| / step` (the Semantics), float64. */
export function splineTv2(c: ArrayLike<number>, step: number): number {
  let s = 0;
  for (let k = 1; k < c.length - 1; ++k) s += Math.abs(c[k - 1] - 2 * c[k] + c[k + 1]) / step;
  return s;
}

/** BV(2) = TV(2) + |sigma(0)| + |sigma(1)|, float64. */
export function splineBv2(c: ArrayLike<number>, start: number, step: number): number {
  return splineTv2(c, step) + Math.abs(splineValue(c, start, step, 0)) +
    Math.abs(splineValue(c, start, step, 1));
}

/** Worst errors of device-computed ReLU slopes and TV(2), as fractions of their stated bounds. */
export interface DeviceMathErrors {
  /** max over `k` of `|a_k - exact| / bound_k`. */
  slope: number;
  /** max over rows of `|tv - exact| / (sum_k bound_k + 2^-23 (K - 2) exact)`. */
  tv: number;
  /** Per row, `sum_k bound_k`: what the slopes' errors add up to at most. */
  rowBounds: number[];
}

/**
 * Holds the float32 device path of `reluSlopes` / `tv2` (`C x K` coefficients `v`, row-major;
 * `slopes` `[C, K-2]`, `tv` `[C]`) to the core README's bound
 * `|a_k - exact| <= 2^-21 (|c[k-1]| + 2|c[k]| + |c[k+1]|) / T`, with the exact second
 * differences in float64. A result <= 1 is within the bound.
 */
export function deviceMathErrors(v: ArrayLike<number>, C: number, K: number, step: number,
    slopes: ArrayLike<number>, tv: ArrayLike<number>): DeviceMathErrors {
  let slope = 0;
  let tvWorst = 0;
  const rowBounds: number[] = [];
  for (let r = 0; r < C; ++r) {
    let exactTv = 0;
    let rowBound = 0;
    for (let k = 1; k < K - 1; ++k) {
      const o = r * K + k;
      const exact = ((v[o - 1]! - 2 * v[o]!) + v[o + 1]!) / step;
      const bound = 2 ** -21 * (Math.abs(v[o - 1]!) + 2 * Math.abs(v[o]!) + Math.abs(v[o + 1]!)) / step;
      slope = Math.max(slope, Math.abs(slopes[r * (K - 2) + k - 1]! - exact) / bound);
      exactTv += Math.abs(exact);
      rowBound += bound;
    }
    tvWorst = Math.max(tvWorst, Math.abs(tv[r]! - exactTv) / (rowBound + 2 ** -23 * (K - 2) * exactTv));
    rowBounds.push(rowBound);
  }
  return {slope, tv: tvWorst, rowBounds};
}
