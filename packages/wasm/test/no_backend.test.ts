/**
 * `@deepspline/wasm` imported without `@tensorflow/tfjs-backend-wasm`: `ready()` rejects saying
 * what to import, and `wasmKernelInfo()` does not claim kernels that nothing can run (tfjs
 * would only fail later, in `tf.setBackend('wasm')`, with "Backend name 'wasm' not found in
 * registry").
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {ready, wasmKernelInfo} from '@deepspline/wasm';

test('ready() rejects naming @tensorflow/tfjs-backend-wasm, and the kernels are not reported registered', async () => {
  expect(tf.findBackendFactory('wasm')).toBeFalsy();
  await expect(ready()).rejects.toThrow("@deepspline/wasm: tfjs has no 'wasm' backend; " +
    "import '@tensorflow/tfjs-backend-wasm' (npm install @tensorflow/tfjs-backend-wasm) before calling ready() " +
    "and tf.setBackend('wasm')");
  expect(wasmKernelInfo().registered).toBe(false);
});
