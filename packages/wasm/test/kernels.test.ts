/**
 * What only the wasm package has: binary selection, the 32-bit table limit, the op against the
 * cpu backend, no fallback warning. Parity, special values, errors and leaks are the shared
 * conformance suite's (conformance.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad, linearSpline, splineImplementation} from '@deepspline/core';
import {setWasmBinary, simdSupported, wasmBinary, wasmKernelInfo} from '@deepspline/wasm';
import type {WasmBinary} from '@deepspline/wasm';
import {checkTableBytes} from '@deepspline/wasm/internal';
import {expectClose, rng} from '@deepspline/testing';
import {useWasm} from './helpers';

const warnSpy = jest.spyOn(console, 'warn');
beforeAll(useWasm);
afterEach(() => setWasmBinary(null));

test('the engine has SIMD and picks the simd binary by default; kernels are registered', () => {
  expect(simdSupported()).toBe(true);  // node 20 / V8
  expect(wasmBinary()).toBe('simd');
  expect(wasmKernelInfo()).toEqual({registered: true, binary: 'simd', simd: true, sharedMemory: false});
  expect(splineImplementation('wasm')).toBe('kernel');
  expect(tf.getKernel(LinearSpline, 'wasm')).toBeDefined();
  expect(tf.getKernel(LinearSplineGrad, 'wasm')).toBeDefined();
});

test('setWasmBinary rejects bad values', () => {
  expect(() => setWasmBinary('avx' as WasmBinary)).toThrow(
    `setWasmBinary: expected 'simd', 'scalar' or null, got "avx"`);
});

describe('through the op and its gradient', () => {
  test('linearSpline uses the kernel and its gradient equals the cpu backend\'s', async () => {
    const r = rng(7);
    const xv = Float32Array.from({length: 64 * 16}, () => r() * 4 - 2);
    const cv = Float32Array.from({length: 16 * 9}, () => r() * 2 - 1);
    const run = () => tf.tidy(() => {
      const x = tf.tensor2d(xv, [64, 16]);
      const c = tf.tensor2d(cv, [16, 9]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linearSpline(a, b, {start: -2, step: 0.5}), a));
      const {value, grads} = tf.valueAndGrads(f)([x, c]);
      return [value.dataSync()[0], grads[0].dataSync(), grads[1].dataSync()] as const;
    });
    expect(splineImplementation()).toBe('kernel');
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await useWasm();
    expectClose([wasm[0]], [cpu[0]], 1e-6, 'value');
    expectClose(wasm[1] as Float32Array, cpu[1] as Float32Array, 1e-6, 'dx', 1e-3);
    expectClose(wasm[2] as Float32Array, cpu[2] as Float32Array, 1e-5, 'dc', 1);
  });

  test('coefficients whose table would not fit 32-bit offsets are refused before allocating', () => {
    expect(() => checkTableBytes(256, 101, 32)).not.toThrow();
    expect(() => checkTableBytes(70000, 1000, 32)).toThrow('@deepspline/wasm: expected coefficients ' +
      'whose table (32 bytes x 70000 splines x 999 segments) fits in 2 GiB, got 70000 x 1000 ' +
      'coefficients (2237760000 bytes)');
    expect(() => checkTableBytes(70000, 1000, 16)).not.toThrow();
  });

});

test('the fused wasm kernels stayed active (no fallback warning)', () => {
  expect(wasmKernelInfo().registered).toBe(true);
  expect(warnSpy).not.toHaveBeenCalled();
});
