/**
 * Registers the `LinearSpline` and `LinearSplineGrad` kernels for the `wasm` backend (unless
 * registered already) and, if `tf.setBackend('wasm')` already ran, attaches them now: their
 * `setupFunc` will not run for a backend initialized before they were registered (see
 * `lifecycle.ts`).
 */
import {getKernel, registerKernel} from '@tensorflow/tfjs-core';
import {linearSplineGradWasmConfig, linearSplineWasmConfig} from './kernels.js';
import {attach} from './lifecycle.js';
import {initializedWasmBackend} from './tfjs_internals.js';

for (const config of [linearSplineWasmConfig, linearSplineGradWasmConfig]) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}

const backend = initializedWasmBackend();
if (backend !== null) attach(backend);
