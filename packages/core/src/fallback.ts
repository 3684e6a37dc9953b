/**
 * The composite fallback: the same values and gradients as the fused kernels, built from
 * standard tfjs ops under `tf.customGrad`, for any backend without our kernels (webgl
 * without `@deepspline/webgl`, webgpu, tfjs-node, ...). Correct everywhere, but several
 * programs per call and `O(n)` temporaries.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';

interface Parts {
  /** Float segment index, clamped (NaN mapped to 0), same shape as x. */
  kf: Tensor;
  /** Flat int32 index of `c[k]` in the flattened coefficients. */
  idx: Tensor;
  /** Left coefficient `c[k]`. */
  c0: Tensor;
  /** Segment slope `(c[k+1] - c[k]) / step`. */
  s: Tensor;
  /** `x - t_k`. */
  t: Tensor;
}

function parts(x: Tensor, coefficients: Tensor, start: number, step: number): Parts {
  const [C, K] = coefficients.shape;
  const u = tf.div(tf.sub(x, start), step);
  const kf = tf.where(tf.isNaN(u), tf.zerosLike(u), tf.clipByValue(tf.floor(u), 0, K - 2));
  let idx = tf.cast(kf, 'int32');
  if (C > 1) {
    idx = tf.add(idx, tf.mul(tf.range(0, C, 1, 'int32'), tf.scalar(K, 'int32')));
  }
  const flat = tf.reshape(coefficients, [-1]);
  const c0 = tf.gather(flat, idx);
  const c1 = tf.gather(flat, tf.add(idx, tf.scalar(1, 'int32')));
  const s = tf.div(tf.sub(c1, c0), step);
  const t = tf.sub(x, tf.add(tf.mul(kf, step), start));
  return {kf, idx, c0, s, t};
}

function nanLike(x: Tensor): Tensor {
  return tf.fill(x.shape, NaN);
}

function forward(x: Tensor, coefficients: Tensor, start: number, step: number): Tensor {
  const {c0, s, t} = parts(x, coefficients, start, step);
  const flatSegment = tf.where(tf.isNaN(x), nanLike(x), c0);
  return tf.where(tf.equal(s, 0), flatSegment, tf.add(c0, tf.mul(t, s)));
}

function backward(dy: Tensor, x: Tensor, coefficients: Tensor, start: number, step: number):
    [Tensor, Tensor] {
  const [C, K] = coefficients.shape;
  const {idx, s, t} = parts(x, coefficients, start, step);
  const dx = tf.where(tf.isNaN(x), nanLike(x), tf.mul(s, dy));
  const g = tf.div(tf.mul(t, dy), step);
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
