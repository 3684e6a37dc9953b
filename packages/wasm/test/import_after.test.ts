/** `@deepspline/wasm` imported AFTER `tf.setBackend('wasm')`: the kernels attach at import. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {LinearSpline, linearSpline, splineImplementation} from '@deepspline/core';
import {linearSplineForwardImpl} from '@deepspline/core/internal';
import {expectClose, rng} from '@deepspline/testing';
import {useWasm} from './helpers';

const warn = jest.spyOn(console, 'warn');

test('kernels are used and correct when imported after setBackend', async () => {
  await useWasm();
  expect(tf.getKernel(LinearSpline, 'wasm')).toBeUndefined();
  expect(splineImplementation()).toBe('fallback');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasmPkg = require('@deepspline/wasm') as typeof import('@deepspline/wasm');
  await wasmPkg.ready();
  expect(splineImplementation()).toBe('kernel');
  expect(wasmPkg.wasmKernelInfo()).toEqual({registered: true, binary: 'simd', simd: true, sharedMemory: false});
  const r = rng(11);
  const xv = Float32Array.from({length: 30 * 5}, () => r() * 6 - 3);
  const cv = Float32Array.from({length: 5 * 9}, () => r() * 2 - 1);
  const y = tf.tidy(() => linearSpline(tf.tensor2d(xv, [30, 5]), tf.tensor2d(cv, [5, 9]),
    {start: -2, step: 0.5}).dataSync());
  expectClose(y as Float32Array, linearSplineForwardImpl(xv, cv, 5, 9, -2, 0.5), 1e-6, 'y');
  expect(warn).not.toHaveBeenCalled();
});
