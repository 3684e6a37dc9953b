/**
 * The programs the kernels run: the WebAssembly binaries compiled from `assembly/spline.ts`
 * (what GLSL and WGSL programs are to `@deepspline/webgl` and `@deepspline/webgpu`), embedded
 * in `generated/binaries.ts`. Decoding, SIMD feature detection, compilation and
 * instantiation on a backend's memory.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as binaries from './generated/binaries.js';

/** Which build of the kernels runs: f64x2 SIMD or plain scalar WebAssembly. */
export type WasmBinary = 'simd' | 'scalar';

/**
 * The functions exported by every build of `assembly/spline.ts`. Pointers are byte offsets
 * into the backend's heap; `tab` is a table of `tableSize(C, K)` (forward) or
 * `gradTableSize(C, K)` (backward) bytes: a header of loop constants, then per segment a
 * float64 pair (forward: `(a, s)`) or two (backward: `(t, s)` and the gradient sums), allocated
 * by the caller.
 */
export interface SplineExports {
  /** Bytes of a forward table for `C` splines of `K` coefficients. */
  tableSize(C: number, K: number): number;
  /** Bytes of a backward table for `C` splines of `K` coefficients. */
  gradTableSize(C: number, K: number): number;
  /** Fills the forward table from the float32 `[C, K]` coefficients at `c`. */
  prepare(c: number, tab: number, C: number, K: number, start: number, step: number): void;
  /** Fills the backward table (sums zeroed). */
  prepareGrad(c: number, tab: number, C: number, K: number, start: number, step: number): void;
  /** Writes the spline of the `n` float32 values at `x` to `out` (`tab` from `prepare`). */
  forward(x: number, tab: number, out: number, n: number, C: number, channels: number, K: number,
    start: number, step: number): void;
  /** Writes `dx` and adds the coefficient gradient's parts into `tab` (from `prepareGrad`). */
  backward(dy: number, x: number, tab: number, dx: number, n: number, C: number,
    channels: number, K: number, start: number, step: number): void;
  /** Writes the float32 `[C, K]` coefficient gradient from a backward table's sums. */
  finishGrad(tab: number, out: number, C: number, K: number): void;
}

type BinaryKey = 'simd' | 'scalar' | 'simdShared' | 'scalarShared';

function keyOf(binary: WasmBinary, shared: boolean): BinaryKey {
  return shared ? (binary === 'simd' ? 'simdShared' : 'scalarShared') : binary;
}

function decodeBase64(text: string): Uint8Array {
  if (typeof atob === 'function') {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; ++i) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  const B = (globalThis as {Buffer?: {from(s: string, e: string): Uint8Array}}).Buffer;
  if (B == null) throw new UnsupportedError('@deepspline/wasm: no base64 decoder (atob or Buffer) available');
  return new Uint8Array(B.from(text, 'base64'));
}

/**
 * The bytes of one embedded binary. `shared`: the build that imports a `shared` memory (the
 * multi-threaded wasm backend of cross-origin-isolated pages).
 */
export function wasmBinaryBytes(binary: WasmBinary, shared = false): Uint8Array {
  if (binary !== 'simd' && binary !== 'scalar') {
    throw new ArgumentError(`@deepspline/wasm: expected binary 'simd' or 'scalar', got ${String(binary)}`);
  }
  return decodeBase64(binaries[keyOf(binary, shared)]);
}

// The smallest module using a SIMD instruction (i8x16.splat of i32.const 0), as
// wasm-feature-detect and tfjs-backend-wasm use it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0,
  10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);

let simdSupport: boolean | undefined;

/** Whether this WebAssembly engine supports fixed-width SIMD (feature detection, cached). */
export function simdSupported(): boolean {
  if (simdSupport === undefined) {
    try {
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

let forcedBinary: WasmBinary | null = null;

/**
 * Forces the SIMD or the scalar binary for every later kernel call (`null`: choose by feature
 * detection, the default). For tests and benchmarks. Forcing `'simd'` where the engine lacks
 * SIMD throws.
 */
export function setWasmBinary(binary: WasmBinary | null): void {
  if (binary !== null && binary !== 'simd' && binary !== 'scalar') {
    throw new ArgumentError(`setWasmBinary: expected 'simd', 'scalar' or null, got ${JSON.stringify(binary)}`);
  }
  if (binary === 'simd' && !simdSupported()) {
    throw new UnsupportedError(`setWasmBinary: expected 'scalar' or null on this WebAssembly engine ` +
      `(it has no SIMD), got 'simd'`);
  }
  forcedBinary = binary;
}

/** The binary the kernels use now: the forced one, else `'simd'` when supported, else `'scalar'`. */
export function wasmBinary(): WasmBinary {
  return forcedBinary ?? (simdSupported() ? 'simd' : 'scalar');
}

const modules = new Map<BinaryKey, WebAssembly.Module>();
const compiling = new Map<BinaryKey, Promise<WebAssembly.Module>>();

/** Compiles (once) and returns the module for a binary; synchronous. */
export function compiledModule(binary: WasmBinary, shared: boolean): WebAssembly.Module {
  const key = keyOf(binary, shared);
  let module = modules.get(key);
  if (module === undefined) {
    module = new WebAssembly.Module(wasmBinaryBytes(binary, shared) as BufferSource);
    modules.set(key, module);
  }
  return module;
}

/** Compiles (once) a binary asynchronously, for {@link ready} (no main-thread blocking). */
export function compileModuleAsync(binary: WasmBinary, shared: boolean): Promise<WebAssembly.Module> {
  const key = keyOf(binary, shared);
  const done = modules.get(key);
  if (done !== undefined) return Promise.resolve(done);
  let pending = compiling.get(key);
  if (pending === undefined) {
    pending = WebAssembly.compile(wasmBinaryBytes(binary, shared) as BufferSource).then((module) => {
      if (!modules.has(key)) modules.set(key, module);
      return modules.get(key)!;
    });
    compiling.set(key, pending);
  }
  return pending;
}

/** Whether a memory is backed by a SharedArrayBuffer (the multi-threaded backend). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

const instances = new WeakMap<WebAssembly.Memory, Map<WasmBinary, SplineExports>>();

/**
 * The kernels instantiated on `memory` (imported as `env.memory`), cached per memory and
 * binary. Synchronous: the modules are 2 to 8 KB, below every current engine's limit for
 * synchronous instantiation on a browser's main thread (Chrome's was 4 KB before version 114).
 */
export function instanceOn(memory: WebAssembly.Memory, binary: WasmBinary = wasmBinary()):
    SplineExports {
  let byBinary = instances.get(memory);
  if (byBinary === undefined) {
    byBinary = new Map();
    instances.set(memory, byBinary);
  }
  let exports = byBinary.get(binary);
  if (exports === undefined) {
    const module = compiledModule(binary, isSharedMemory(memory));
    const instance = new WebAssembly.Instance(module, {env: {memory}});
    exports = instance.exports as unknown as SplineExports;
    byBinary.set(binary, exports);
  }
  return exports;
}
