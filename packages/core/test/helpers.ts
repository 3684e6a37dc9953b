import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {linearSpline, setSplineImplementation} from '@deepspline/core';
import type {SplineImplementation} from '@deepspline/core';

export const IMPLS: SplineImplementation[] = ['kernel', 'fallback'];

/** Runs `f` with the op forced to `impl`, restoring automatic choice afterwards. */
export function withImpl<T>(impl: SplineImplementation, f: () => T): T {
  setSplineImplementation(impl);
  try { return f(); } finally { setSplineImplementation(null); }
}

/** Forward values and both gradients (for upstream `dy`) through the public op. */
export function run(x: Float32Array, shape: number[], c: Float32Array, C: number, K: number,
    start: number, step: number, dy?: Float32Array):
    {y: Float32Array, dx?: Float32Array, dc?: Float32Array} {
  return tf.tidy(() => {
    const xt = tf.tensor(x, shape, 'float32');
    const ct = tf.tensor2d(c, [C, K], 'float32');
    const y = linearSpline(xt, ct, {start, step}).dataSync() as Float32Array;
    if (dy == null) return {y: Float32Array.from(y)};
    const dyt = tf.tensor(dy, shape, 'float32');
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(linearSpline(a, b, {start, step}), dyt)));
    const [dx, dc] = g([xt, ct]);
    return {y: Float32Array.from(y), dx: Float32Array.from(dx.dataSync() as Float32Array),
      dc: Float32Array.from(dc.dataSync() as Float32Array)};
  });
}

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}
