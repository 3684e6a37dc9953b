/**
 * The lifecycle of the WebAssembly binary on a wasm backend: when it attaches, and which of
 * three executors a `LinearSpline` / `LinearSplineGrad` call ends in.
 *
 * Attaching (instantiating the binary this engine uses on the backend's `WebAssembly.Memory`)
 * has one path, {@link attach}, cached per backend and binary. It runs eagerly as soon as an
 * initialized wasm backend is known, so that an unreachable memory is found before the op
 * picks the kernels:
 * - on import, if `tf.setBackend('wasm')` already ran (`register_wasm.ts`: the kernels'
 *   `setupFunc` will not run for a backend initialized before they were registered);
 * - at the backend's set-up, `tf.setBackend('wasm')` after the import (the kernels'
 *   `setupFunc`);
 * - in `ready()`, after compiling the binary asynchronously, if the backend is initialized by
 *   then;
 * and on every kernel call, where it returns the cached instance (or instantiates the binary
 * that `setWasmBinary` chose since).
 *
 * The executors:
 * 1. the wasm kernel, in place on the backend's heap: every call with finite coefficients;
 * 2. the JavaScript rule of `@deepspline/core` (its cpu kernel's implementation, on the
 *    heap's values) inside the same kernel call: non-finite coefficients, which the wasm
 *    tables cannot encode, and the one call during which {@link attach} fails;
 * 3. core's composite fallback (tfjs ops): every call after {@link disableKernels}, which a
 *    failed {@link attach} runs (the memory cannot be reached, or instantiation fails): it
 *    unregisters both kernels and warns once, and the op no longer finds a kernel for `wasm`.
 */
import {unregisterKernel} from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {backendMemory} from './tfjs_internals.js';
import {instanceOn} from './programs.js';
import type {SplineExports} from './programs.js';

let warned = false;
let disabled = false;
const attached = new WeakMap<object, WebAssembly.Memory>();

/** Unregisters both kernels (the op then uses its fallback) and warns once. */
export function disableKernels(reason: string): void {
  disabled = true;
  for (const name of [LinearSpline, LinearSplineGrad]) {
    try { unregisterKernel(name, 'wasm'); } catch { /* not registered */ }
  }
  if (!warned) {
    warned = true;
    console.warn(`@deepspline/wasm: ${reason}; linearSpline uses the composite fallback on the ` +
      'wasm backend instead of the fused kernels');
  }
}

/** Whether {@link disableKernels} ran (the kernels are no longer registered). */
export function kernelsDisabled(): boolean {
  return disabled;
}

/**
 * Instantiates the kernels on the backend's memory (cached). Returns `null` after disabling
 * the kernels with one warning when the memory cannot be reached or instantiation fails.
 */
export function attach(backend: object): SplineExports | null {
  let memory = attached.get(backend) ?? null;
  if (memory === null) {
    memory = backendMemory(backend);
    if (memory === null) {
      disableKernels("the wasm backend's WebAssembly.Memory (or its _malloc/_free) cannot be reached");
      return null;
    }
  }
  try {
    const exports = instanceOn(memory);
    attached.set(backend, memory);
    return exports;
  } catch (e) {
    disableKernels(`the kernels could not be instantiated on the wasm backend's memory ` +
      `(${(e as Error).message})`);
    return null;
  }
}
