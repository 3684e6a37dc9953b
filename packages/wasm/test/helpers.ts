/** Shared helpers of the @deepspline/wasm tests. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** Makes `wasm` the active backend (its .wasm binary loads from node_modules, offline). */
export async function useWasm(): Promise<void> {
  const ok = await tf.setBackend('wasm');
  if (!ok || tf.getBackend() !== 'wasm') throw new Error('could not initialize the wasm backend');
}

interface HeapModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

/**
 * Counts the wasm backend's heap blocks: wraps its module's `_malloc`/`_free` (tfjs's own
 * allocations and our kernels' scratch both go through them) and reports how many are live.
 */
export function trackHeapBlocks(): {install(): void, uninstall(): void, live(): number} {
  const live = new Set<number>();
  let original: HeapModule | null = null;
  let module: HeapModule | null = null;
  return {
    install() {
      module = (tf.backend() as unknown as {wasm: HeapModule}).wasm;
      original = {_malloc: module._malloc, _free: module._free};
      const o = original;
      module._malloc = (n: number) => {
        const p = o._malloc(n);
        if (p !== 0) live.add(p >>> 0);
        return p;
      };
      module._free = (p: number) => {
        live.delete(p >>> 0);
        o._free(p);
      };
    },
    uninstall() {
      if (module !== null && original !== null) Object.assign(module, original);
    },
    live: () => live.size,
  };
}
