/**
 * Helpers of the lipschitz tests. The independent references (float64 spline math, ml-matrix
 * norms and factorizations, explicit matrices of linear maps) come from @deepspline/testing,
 * never from a copy of the package's own solvers.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type {Tensor} from '@tensorflow/tfjs-core';

export {explicitMatrix, linearPartMatrix, orthogonalFactor, rng, rowColSums,
  splineBv2 as bv2Js, splineTv2 as tv2Js, spectralNorm as spectralNormSvd} from '@deepspline/testing';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Rows of a [rows, cols] float32 tensor as arrays. */
export function rowsOf(t: Tensor): number[][] {
  return t.arraySync() as number[][];
}

/**
 * The per-sample values of a loss or metric `fn(yTrue, yPred)` on explicit arrays (`y` as
 * `dtype`); checks that the result has shape `[samples]` and is the only tensor left behind.
 */
export function perSample(fn: (yTrue: Tensor, yPred: Tensor) => Tensor, y: number[][] | number[], f: number[][],
    dtype: 'float32' | 'int32' = 'float32'): number[] {
  const yt = tf.tensor(y, undefined, dtype);
  const ft = tf.tensor2d(f);
  const before = tf.memory().numTensors;
  const out = fn(yt, ft);
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(out.shape).toEqual([f.length]);
  const values = Array.from(out.dataSync());
  tf.dispose([yt, ft, out]);
  return values;
}
