/**
 * The 1 and Infinity operator norms of convolutions and average pooling in float64, from
 * their float32 weights and the window geometry tfjs uses, rounded up: certificates. (The
 * same sums computed by a backend in float32 round to nearest, below the exact norm for
 * about a third of random layers.)
 */
import {matrixNorm, roundUpSum} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';

/** Padding of a window axis, as tfjs's convolutions and pooling take it. */
export type WindowPadding = 'valid' | 'same' | 'causal';

/** One spatial axis of a sliding window (convolution or pooling) as tfjs computes it. */
export interface WindowAxis {
  /** Input size. */
  size: number;
  /** Window size (dilated: `(k - 1) * rate + 1`). */
  window: number;
  stride: number;
  /** Output size. */
  out: number;
  /** Zeros padded before the input. */
  before: number;
}

/**
 * The geometry of tfjs's `conv_util.computePaddingInfo`: `'valid'` has
 * `ceil((size - window + 1) / stride)` outputs and no padding; `'same'` has
 * `ceil(size / stride)` outputs and `floor(total / 2)` zeros before, where `total` is the
 * padding that makes the last window fit; `'causal'` (Conv1D) pads `window - 1` zeros
 * before and is then `'valid'`.
 */
export function windowAxis(size: number, window: number, stride: number, padding: WindowPadding): WindowAxis {
  if (padding === 'valid') return {size, window, stride, out: Math.max(0, Math.ceil((size - window + 1) / stride)), before: 0};
  const out = Math.ceil(size / stride);
  const before = padding === 'causal' ? window - 1 : Math.floor(Math.max(0, (out - 1) * stride + window - size) / 2);
  return {size, window, stride, out, before};
}

/** The window positions `[lo, hi)` of output `o` that fall inside the input. */
function tapsInside(a: WindowAxis, o: number): [number, number] {
  const start = o * a.stride - a.before;
  return [Math.max(0, -start), Math.min(a.window, a.size - start)];
}

/** The window positions that read input `i` (from one output each: a stride apart). */
function tapsReading(a: WindowAxis, i: number): number[] {
  const taps: number[] = [];
  for (let t = 0; t < a.window; ++t) {
    const s = i + a.before - t;
    if (s >= 0 && s % a.stride === 0 && s / a.stride < a.out) taps.push(t);
  }
  return taps;
}

/** The distinct values of `f(i)` for `i < n` (outputs far from the border share theirs). */
function distinct<T>(n: number, f: (i: number) => T): T[] {
  const seen = new Map<string, T>();
  for (let i = 0; i < n; ++i) {
    const v = f(i);
    seen.set(JSON.stringify(v), v);
  }
  return [...seen.values()];
}

function range([lo, hi]: [number, number]): number[] {
  return Array.from({length: Math.max(0, hi - lo)}, (_, k) => lo + k);
}

/**
 * `max_output sum_inputs |A|` (`p = Infinity`) or `max_input sum_outputs |A|` (`p = 1`) of a
 * map that, at every output (input) position, sums the values `tapSums[t * channels + c]` of
 * the window positions `t` that lie inside the input (read the input), over 2-D windows
 * `[rows, cols]` (a 1-D window has `cols` of size 1). `tapSums` holds, per window position,
 * the float64 sums of the absolute weights into output channel `c` (`p = Infinity`) or out
 * of input channel `c` (`p = 1`), each a sum of at most `termsPerTap` terms. Rounded up.
 */
export function windowSumNorm(rows: WindowAxis, cols: WindowAxis, tapSums: Float64Array, channels: number,
    termsPerTap: number, p: 1 | typeof Infinity): number {
  if (rows.out === 0 || cols.out === 0) return 0;
  const rowSets = p === Infinity ? distinct(rows.out, (o) => range(tapsInside(rows, o))) :
    distinct(rows.size, (i) => tapsReading(rows, i));
  const colSets = p === Infinity ? distinct(cols.out, (o) => range(tapsInside(cols, o))) :
    distinct(cols.size, (i) => tapsReading(cols, i));
  let best = 0;
  const sums = new Float64Array(channels);
  for (const rs of rowSets) {
    for (const cs of colSets) {
      sums.fill(0);
      for (const i of rs) {
        for (const j of cs) {
          const base = (i * cols.window + j) * channels;
          for (let c = 0; c < channels; ++c) sums[c] += tapSums[base + c]!;
        }
      }
      for (let c = 0; c < channels; ++c) best = Math.max(best, sums[c]!);  // NaN stays NaN
    }
  }
  return roundUpSum(best, rows.window * cols.window * termsPerTap);
}

/**
 * The operator norm of tfjs's average pooling over the given axes (channels are pooled
 * alike), in float64. Each output averages the inputs of its window that lie inside the
 * input (tfjs leaves the padding out), so on a rectangle the operator is the Kronecker
 * product of one averaging matrix `P_a` per axis (entries `1 / count`), and its 1, 2 and
 * Infinity norms are the products of theirs: `||P_a||_Inf = 1` (each row averages),
 * `||P_a||_1 = max_i sum_{o reads i} 1 / count(o)`, `||P_a||_2` by {@link matrixNorm} of
 * the small `[out, size]` matrix. Rounded up.
 */
export function averagePoolNorm(axes: WindowAxis[], p: Norm): number {
  if (axes.some((a) => a.out === 0)) return 0;
  if (p === Infinity) return 1;
  let norm = 1;
  for (const a of axes) {
    const count = (o: number) => { const [lo, hi] = tapsInside(a, o); return hi - lo; };
    if (p === 1) {
      let best = 0;
      for (let i = 0; i < a.size; ++i) {
        let s = 0;
        for (const t of tapsReading(a, i)) s += 1 / count((i + a.before - t) / a.stride);
        best = Math.max(best, s);
      }
      norm *= roundUpSum(best, 2 * a.window);
    } else {
      // [size, out]: the map x -> x M of matrixNorm is P_a acting on columns
      const m = new Float64Array(a.size * a.out);
      for (let o = 0; o < a.out; ++o) {
        const [lo, hi] = tapsInside(a, o);
        for (let t = lo; t < hi; ++t) m[(o * a.stride - a.before + t) * a.out + o] = 1 / (hi - lo);
      }
      // the entries round by 2^-53 relative, moving the norm by at most as much
      norm *= roundUpSum(matrixNorm(m, a.size, a.out, 2), 1);
    }
  }
  return roundUpSum(norm, axes.length);
}
