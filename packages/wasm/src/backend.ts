/**
 * The parts of tfjs-backend-wasm's `BackendWasm` (4.22) the kernels use, and how to reach the
 * backend's `WebAssembly.Memory`:
 * - single-threaded builds export their memory: `backend.wasm.asm.memory` (emscripten's
 *   `Module.asm` is the instance's exports; newer emscripten names it `wasmExports`);
 * - the multi-threaded build creates a shared memory in JS: `backend.wasm.wasmMemory`.
 * A candidate is accepted only if its buffer is the one behind `backend.wasm.HEAPU8` (which
 * emscripten refreshes after every growth), so a wrong object is never used.
 */
import {ArgumentError} from '@deepspline/core';
import type {DataType, TensorInfo} from '@tensorflow/tfjs-core';

/** The emscripten module of the wasm backend, as far as we use it. */
export interface EmscriptenModuleLike {
  HEAPU8?: Uint8Array;
  wasmMemory?: unknown;
  asm?: Record<string, unknown>;
  wasmExports?: Record<string, unknown>;
  _malloc?: (bytes: number) => number;
  _free?: (ptr: number) => void;
}

/** The part of `BackendWasm` the kernels use. */
export interface WasmBackendLike {
  wasm: EmscriptenModuleLike;
  dataIdMap: {get(dataId: object): {memoryOffset: number} | undefined};
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number,
    values?: Float32Array): TensorInfo;
  readSync(dataId: object): unknown;
  disposeData(dataId: object): boolean;
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

/** Frees scratch space from {@link malloc}. */
export function free(backend: WasmBackendLike, ptr: number): void {
  backend.wasm._free!(ptr);
}
