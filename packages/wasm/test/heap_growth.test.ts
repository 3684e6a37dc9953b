/**
 * Growth of the backend's heap while the kernels run: allocating the outputs (x, y and dx
 * together exceed the heap) makes emscripten grow the memory, which detaches every view of
 * the old buffer. The kernels keep no views and read offsets after allocating, so results
 * stay exact. A fresh test file has a fresh backend with a small heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {linearSplineForwardImpl, linearSplineGradImpl} from '@deepspline/core/internal';
import {setWasmBinary} from '@deepspline/wasm';
import type {WasmBinary} from '@deepspline/wasm';
import {backendMemory} from '@deepspline/wasm/internal';
import {rng, sameBits} from '@deepspline/testing';
import {useWasm} from './helpers';

beforeAll(useWasm);

test.each(['simd', 'scalar'] as WasmBinary[])('%s binary: exact across heap growth', (binary) => {
  setWasmBinary(binary);
  const memory = backendMemory(tf.backend())!;
  expect(memory).toBeInstanceOf(WebAssembly.Memory);
  const n = Math.ceil(memory.buffer.byteLength / 4 / 3 / 4) * 4 + 4096;  // x + y + dx > heap
  const r = rng(99);
  const xv = new Float32Array(n);
  for (let i = 0; i < n; ++i) xv[i] = r() * 6 - 3;
  const cv = Float32Array.from({length: 4 * 9}, () => r() * 2 - 1);
  const ref = linearSplineForwardImpl(xv, cv, 4, 9, -2, 0.5);
  const g = linearSplineGradImpl(ref, xv, cv, 4, 9, -2, 0.5);
  tf.tidy(() => {
    const x = tf.tensor2d(xv, [n / 4, 4]);
    const c = tf.tensor2d(cv, [4, 9]);
    const bytes = memory.buffer.byteLength;
    const y = tf.engine().runKernel(LinearSpline, {x, coefficients: c}, {start: -2, step: 0.5}) as tf.Tensor;
    const [dx, dc] = tf.engine().runKernel(LinearSplineGrad, {dy: y, x, coefficients: c},
      {start: -2, step: 0.5}) as tf.Tensor[];
    expect(memory.buffer.byteLength).toBeGreaterThan(bytes);  // the heap grew in the kernels
    expect(sameBits(y.dataSync() as Float32Array, ref)).toBe(true);
    expect(sameBits(dx.dataSync() as Float32Array, g.dx)).toBe(true);
    expect(sameBits(dc.dataSync() as Float32Array, g.dc)).toBe(true);
  });
  setWasmBinary(null);
});
