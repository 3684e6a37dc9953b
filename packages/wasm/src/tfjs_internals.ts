/**
 * Every use of tfjs-private API in `@deepspline/wasm`, written against
 * `@tensorflow/tfjs-core` and `@tensorflow/tfjs-backend-wasm` 4.22 (the peer range's floor;
 * the tests run these exact paths). The public API has no zero-copy access to a wasm
 * backend's memory, so the kernels reach into `BackendWasm` and its emscripten module here,
 * and nowhere else:
 * - the backend's `WebAssembly.Memory`, to instantiate our module on it: single-threaded builds
 *   export it as `backend.wasm.asm.memory` (emscripten's `Module.asm` is the instance's
 *   exports; newer emscripten names it `wasmExports`); the multi-threaded build creates a
 *   shared memory in JS, `backend.wasm.wasmMemory`. A candidate is accepted only if its
 *   buffer is the one behind `backend.wasm.HEAPU8` (which emscripten refreshes after every
 *   growth), so a wrong object is never used;
 * - a tensor's offset in that memory (`dataIdMap`), outputs allocated in it (`makeOutput`)
 *   and scratch space (`_malloc`/`_free`);
 * - the initialized backend (`engine().registry`), without starting its initialization.
 */
import {ArgumentError} from '@deepspline/core';
import {engine} from '@tensorflow/tfjs-core';
import type {DataType, TensorInfo} from '@tensorflow/tfjs-core';

/**
 * The emscripten module of the wasm backend (`BackendWasm.wasm`), as far as we use it: the
 * only way to the heap the tensors live in. tfjs-backend-wasm 4.22 types it as an
 * `EmscriptenModule` (`HEAPU8`, `_malloc`, `_free`) but documents none of it, and the memory
 * itself (`asm`, `wasmExports`, `wasmMemory`) is not even typed.
 */
export interface EmscriptenModuleLike {
  HEAPU8?: Uint8Array;
  wasmMemory?: unknown;
  asm?: Record<string, unknown>;
  wasmExports?: Record<string, unknown>;
  _malloc?: (bytes: number) => number;
  _free?: (ptr: number) => void;
}

/**
 * The part of `BackendWasm` (tfjs-backend-wasm 4.22) the kernels use. `dataIdMap` and
 * `makeOutput` are what tfjs's own wasm kernels use to find inputs and allocate outputs in
 * the heap; the public `KernelBackend` interface has only copying reads and writes
 * (`readSync`, `makeTensorInfo` with values), which would defeat running in place.
 */
export interface WasmBackendLike {
  wasm: EmscriptenModuleLike;
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number,
    values?: Float32Array): TensorInfo;
  readSync(dataId: object): unknown;
  disposeData(dataId: object): boolean;
}

/** A kernel's `backend` argument, seen as the wasm backend (the kernels are registered for `wasm` only). */
export function asWasmBackend(backend: unknown): WasmBackendLike {
  return backend as WasmBackendLike;
}

/**
 * The wasm backend if it is already initialized, else `null`. tfjs-core 4.22's public
 * `findBackend('wasm')` would start an uninitialized backend's (asynchronous) initialization
 * as a side effect; the engine's `registry` (not part of the public API) holds only
 * initialized backends.
 */
export function initializedWasmBackend(): object | null {
  const registry = (engine() as unknown as {registry?: Record<string, object>}).registry;
  return registry?.['wasm'] ?? null;
}

/**
 * The `WebAssembly.Memory` of a wasm backend, or `null` when it cannot be reached (unusual
 * build) or the backend lacks `_malloc`/`_free` for the kernels' scratch space.
 */
export function backendMemory(backend: unknown): WebAssembly.Memory | null {
  const module = (backend as Partial<WasmBackendLike> | null)?.wasm;
  if (module == null || typeof module !== 'object') return null;
  if (typeof module._malloc !== 'function' || typeof module._free !== 'function') return null;
  const heap = module.HEAPU8?.buffer;
  const candidates = [module.wasmMemory, module.asm?.['memory'], module.wasmExports?.['memory']];
  for (const candidate of candidates) {
    if (candidate instanceof WebAssembly.Memory && (heap === undefined || candidate.buffer === heap)) {
      return candidate;
    }
  }
  return null;
}

/** The byte offset of a tensor's data in the backend's heap (read fresh: never cached). */
export function memoryOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data == null) {
    throw new ArgumentError(`@deepspline/wasm: expected a tensor on the wasm backend, got one of shape ` +
      `[${t.shape}] (${t.dtype}) whose data is not in the wasm backend's memory`);
  }
  return data.memoryOffset >>> 0;
}

/** The package's error for a failed allocation of `bytes` for `what` (and the cause, if any). */
export function allocationError(bytes: number, what: string, cause?: unknown): Error {
  const why = cause === undefined ? '' : ` (${String(cause)})`;
  return new Error(`@deepspline/wasm: the wasm backend could not allocate ${bytes} bytes ${what}${why}`);
}

/**
 * Why the block `[ptr, ptr + bytes)` cannot be used, or `null` when it lies inside the
 * backend's heap as it is now (`HEAPU8`, which emscripten refreshes after every growth). Near
 * a 4 GiB heap an allocator's 32-bit arithmetic can return a block that ends past the heap;
 * writing to it fails with "memory access out of bounds".
 */
export function outsideHeap(backend: WasmBackendLike, ptr: number, bytes: number): string | null {
  const heap = backend.wasm.HEAPU8?.buffer.byteLength;
  if (heap === undefined || ptr + bytes <= heap) return null;
  return `the block [${ptr}, ${ptr + bytes}) ends past the heap's ${heap} bytes`;
}

/**
 * Allocates `bytes` of scratch space in the backend's heap (free with {@link free}). A failure
 * (`_malloc` returns 0, throws as an aborting build does, or returns a block that does not lie
 * inside the heap, which is then handed back) is the package's clear error.
 */
export function malloc(backend: WasmBackendLike, bytes: number): number {
  let ptr: number;
  try {
    ptr = backend.wasm._malloc!(bytes) >>> 0;
  } catch (e) {
    throw allocationError(bytes, 'of scratch space', e);
  }
  if (ptr === 0) throw allocationError(bytes, 'of scratch space');
  const outside = outsideHeap(backend, ptr, bytes);
  if (outside != null) {
    try { free(backend, ptr); } catch { /* a block the allocator cannot take back is left to it */ }
    throw allocationError(bytes, 'of scratch space', outside);
  }
  return ptr;
}

/**
 * A float32 view of `count` values at byte `offset` of the backend's heap. Create it after
 * every allocation of the call (a growth of the heap detaches older views) and drop it before
 * the next one.
 */
export function heapFloat32(backend: WasmBackendLike, offset: number, count: number): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8!.buffer, offset, count);
}

/** Frees scratch space from {@link malloc}. */
export function free(backend: WasmBackendLike, ptr: number): void {
  backend.wasm._free!(ptr);
}
