/**
 * `@deepspline/wasm`: WebAssembly kernels of the linear-spline activation for the tfjs `wasm`
 * backend. They run in place on the backend's own memory (no copies), from an f64x2 SIMD
 * binary where the engine supports SIMD, else from a scalar binary; both are embedded in
 * this package (no files to serve). Results equal the cpu kernel's.
 *
 * Importing this package registers the `LinearSpline` and `LinearSplineGrad` kernels for the
 * `wasm` backend; `await ready()` finishes the asynchronous part. It works whether imported
 * before or after `tf.setBackend('wasm')`. Where the backend's memory cannot be reached, the
 * kernels unregister themselves with one warning and `linearSpline` uses its fallback (the
 * lifecycle: the package README's "Lifecycle of the binary").
 *
 * Opt-in, not done on import: {@link registerTransposingMatMul} replaces tfjs-backend-wasm's
 * matrix-product kernels by faster ones for transposed operands (dense training several times
 * faster on tfjs-backend-wasm 4.22); {@link restoreTfjsMatMul} undoes it.
 *
 * @packageDocumentation
 */
import {UnsupportedError} from '@deepspline/core';
import './register_wasm.js';
import {findBackendFactory, getKernel} from '@tensorflow/tfjs-core';
import {linearSplineWasmConfig} from './kernels.js';
import {attach, kernelsDisabled} from './lifecycle.js';
import {compileModuleAsync, isSharedMemory, simdSupported, wasmBinary} from './programs.js';
import type {WasmBinary} from './programs.js';
import {backendMemory, initializedWasmBackend} from './tfjs_internals.js';

export {linearSplineGradWasmConfig, linearSplineWasmConfig} from './kernels.js';
export {setWasmBinary, simdSupported, wasmBinary, wasmBinaryBytes} from './programs.js';
export type {WasmBinary} from './programs.js';
export {registerTransposingMatMul, restoreTfjsMatMul, transposingMatMulRegistered} from './matmul.js';

/** Whether tfjs has a `wasm` backend to run the kernels on (`@tensorflow/tfjs-backend-wasm` imported). */
function wasmBackendRegistered(): boolean {
  return findBackendFactory('wasm') != null;
}

/** What {@link wasmKernelInfo} reports. */
export interface WasmKernelInfo {
  /**
   * Whether the fused kernels are registered for `wasm` and tfjs has that backend (false
   * without `@tensorflow/tfjs-backend-wasm`, and after a fallback warning).
   */
  registered: boolean;
  /** The binary kernel calls use now. */
  binary: WasmBinary;
  /** Whether the engine supports WebAssembly SIMD. */
  simd: boolean;
  /** Whether an initialized wasm backend uses a shared (multi-threaded) memory; `null`: none yet. */
  sharedMemory: boolean | null;
}

/** Which binary runs and whether the kernels are active, for diagnostics. */
export function wasmKernelInfo(): WasmKernelInfo {
  const backend = initializedWasmBackend();
  const memory = backend === null ? null : backendMemory(backend);
  return {
    registered: wasmBackendRegistered() && !kernelsDisabled() &&
      getKernel(linearSplineWasmConfig.kernelName, 'wasm') != null,
    binary: wasmBinary(),
    simd: simdSupported(),
    sharedMemory: memory === null ? null : isSharedMemory(memory),
  };
}

/**
 * Finishes the asynchronous part of the set-up: compiles the binary this engine will use
 * without blocking (browsers restrict synchronous compilation on the main thread) and, if the
 * wasm backend is already initialized, instantiates the kernels on its memory. Calling it is
 * optional in Node; in browsers call it once before the first spline op. Rejects, saying what
 * to import, when `@tensorflow/tfjs-backend-wasm` has not been imported.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {ready} from '@deepspline/wasm';
 * await tf.setBackend('wasm');
 * await ready();
 * ```
 */
export async function ready(): Promise<void> {
  if (!wasmBackendRegistered()) {
    throw new UnsupportedError("@deepspline/wasm: tfjs has no 'wasm' backend; import '@tensorflow/tfjs-backend-wasm' " +
      '(npm install @tensorflow/tfjs-backend-wasm) before calling ready() and tf.setBackend(\'wasm\')');
  }
  const backend = initializedWasmBackend();
  const memory = backend === null ? null : backendMemory(backend);
  const shared = memory !== null && isSharedMemory(memory);
  await compileModuleAsync(wasmBinary(), shared);
  if (backend !== null) attach(backend);
}
