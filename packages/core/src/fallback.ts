/**
 * The composite fallback: the same values and gradients as the fused kernels, built from
 * standard tfjs ops under `tf.customGrad`, for any backend without our kernels (webgl
 * without `@deepspline/webgl`, webgpu, tfjs-node, ...). Correct everywhere, but several
 * programs per call and `O(n)` temporaries.
 *
 * It computes in float32 (what every backend offers) and keeps the kernels' precision where
 * the grid is far from the origin: the knots `t_k = start + k step` are computed in float64
 * and split into two float32 parts `hi + lo`, so that `x - t_k = (x - hi) - lo` has no
 * cancellation (`x - hi` is exact when `x` is near the knot), and the segment is the kernels'
 * own, picked by comparing `x` with tabulated float32 thresholds. The tolerance against the
 * kernels is stated and derived in the README, "Semantics".
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';

interface Parts {
  /** Flat int32 index of `c[k]` in the flattened coefficients. */
  idx: Tensor;
  /** Left coefficient `c[k]`. */
  c0: Tensor;
  /** `c[k+1] - c[k]`. */
  diff: Tensor;
  /** `x - t_k`. */
  r: Tensor;
  /** Whether `c[k]` and `c[k+1]` are both finite (else the segment gives NaN). */
  finite: Tensor;
}

const bits = new Float32Array(1);
const bitsInt = new Int32Array(bits.buffer);
const INF_KEY = 0x7f800000;

/** The float32 whose order key is `key` (keys order float32 values like numbers; ±0 is 0). */
function fromKey(key: number): number {
  bitsInt[0] = key >= 0 ? key : (-key | 0x80000000);
  return bits[0];
}

/**
 * The smallest float32 `x` whose kernel coordinate `(x - start) / step` (float64, as
 * `cpu_impl.ts` computes it) is `>= j`: then `x >= X_j` in float32 picks the kernels' segment
 * exactly, including where their float64 rounding puts an `x` next to a knot on it. Found by
 * bisection over the float32 values (the coordinate is monotone in `x`).
 */
function segmentThreshold(j: number, start: number, step: number): number {
  let lo = -INF_KEY;  // -Inf: never reaches j
  let hi = INF_KEY;   // +Inf: always does
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((fromKey(mid) - start) / step >= j) hi = mid;
    else lo = mid;
  }
  return fromKey(hi);
}

/**
 * Per-call tables of `K` entries: the kernels' segment thresholds `X` (NaN at both ends, so
 * that no comparison moves past them) and the knots `t_k` in float64 split into float32
 * `hi + lo`.
 */
function tables(K: number, start: number, step: number): {X: Tensor, hi: Tensor, lo: Tensor} {
  const X = new Float32Array(K).fill(NaN);
  const hi = new Float32Array(K);
  const lo = new Float32Array(K);
  for (let k = 0; k < K; ++k) {
    if (k > 0 && k < K - 1) X[k] = segmentThreshold(k, start, step);
    const t = start + k * step;  // the kernels' knot, the same float64 expression
    hi[k] = t;
    lo[k] = t - hi[k];
  }
  return {X: tf.tensor1d(X, 'float32'), hi: tf.tensor1d(hi, 'float32'),
    lo: tf.tensor1d(lo, 'float32')};
}

function parts(x: Tensor, coefficients: Tensor, start: number, step: number): Parts {
  const [C, K] = coefficients.shape;
  const {X, hi, lo} = tables(K, start, step);
  const startHi = Math.fround(start);
  // A guess of the segment, at most one off (|u| < 2^22), then corrected against X.
  const u = tf.div(tf.sub(tf.sub(x, startHi), start - startHi), step);
  const k0 = tf.cast(tf.where(tf.isNaN(u), tf.zerosLike(u), tf.clipByValue(tf.floor(u), 0, K - 2)),
    'int32');
  const one = tf.scalar(1, 'int32');
  const k1 = tf.add(k0, one);
  const k = tf.where(tf.less(x, tf.gather(X, k0)), tf.sub(k0, one),
    tf.where(tf.greaterEqual(x, tf.gather(X, k1)), k1, k0));
  // x - t_k without cancellation: x - hi is exact near the knot (Sterbenz), lo is tiny.
  const r = tf.sub(tf.sub(x, tf.gather(hi, k)), tf.gather(lo, k));
  let idx = k;
  if (C > 1) {
    idx = tf.add(idx, tf.mul(tf.range(0, C, 1, 'int32'), tf.scalar(K, 'int32')));
  }
  const flat = tf.reshape(coefficients, [-1]);
  const c0 = tf.gather(flat, idx);
  const c1 = tf.gather(flat, tf.add(idx, one));
  const finite = tf.logicalAnd(tf.isFinite(c0), tf.isFinite(c1));
  return {idx, c0, diff: tf.sub(c1, c0), r, finite};
}

function nanLike(x: Tensor): Tensor {
  return tf.fill(x.shape, NaN);
}

function forward(x: Tensor, coefficients: Tensor, start: number, step: number): Tensor {
  if (x.size === 0) return tf.zeros(x.shape);
  const {c0, diff, r, finite} = parts(x, coefficients, start, step);
  // A flat segment gives c[k] even for x = ±Inf (not Inf * 0 = NaN), as the kernels.
  const flatSegment = tf.where(tf.isNaN(x), nanLike(x), c0);
  // (x - t_k) s rather than f (c[k+1] - c[k]): f overflows float32 for huge x, the product
  // only where the value does.
  const y = tf.where(tf.equal(diff, 0), flatSegment, tf.add(c0, tf.mul(r, tf.div(diff, step))));
  // + 0: a zero result is +0, as the kernels' (never -0).
  return tf.add(tf.where(finite, y, nanLike(x)), 0);
}

function backward(dy: Tensor, x: Tensor, coefficients: Tensor, start: number, step: number):
    [Tensor, Tensor] {
  const [C, K] = coefficients.shape;
  if (x.size === 0) return [tf.zeros(x.shape), tf.zeros([C, K])];
  const {idx, diff, r, finite} = parts(x, coefficients, start, step);
  const dx = tf.where(tf.logicalAnd(finite, tf.logicalNot(tf.isNaN(x))),
    tf.mul(tf.div(diff, step), dy), nanLike(x));
  const g = tf.div(tf.mul(r, dy), step);  // f dy
  const flatIdx = tf.reshape(idx, [-1, 1]);
  const indices = tf.concat([flatIdx, tf.add(flatIdx, tf.scalar(1, 'int32'))], 0);
  const updates = tf.concat([tf.reshape(tf.sub(dy, g), [-1]), tf.reshape(g, [-1])], 0);
  // scatterND sums duplicate indices: an O(n) scatter-add on every backend.
  const dc = tf.reshape(tf.scatterND(indices, updates, [C * K]), [C, K]);
  return [dx, dc];
}

/**
 * Evaluates the spline with standard ops (no fused kernel). Arguments are assumed checked by
 * the caller ({@link linearSpline} checks them).
 */
export function linearSplineFallback(x: Tensor, coefficients: Tensor, start: number,
    step: number): Tensor {
  const f = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const [xi, ci, save] = args as [Tensor, Tensor, tf.GradSaveFunc];
    save([xi, ci]);
    return {
      value: forward(xi, ci, start, step),
      gradFunc: (dy: Tensor, saved: Tensor[]) => backward(dy, saved[0], saved[1], start, step),
    };
  });
  return f(x, coefficients);
}
