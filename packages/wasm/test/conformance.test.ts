/**
 * The shared kernel conformance suite on the wasm backend: the fused kernels with the SIMD and
 * the scalar binary (bit-identical to the cpu kernel), and the composite fallback. Backend
 * memory is counted by the backend's own `_malloc`/`_free`, so kernel scratch that is not freed
 * fails the leak check.
 */
import {setWasmBinary} from '@deepspline/wasm';
import type {WasmBinary} from '@deepspline/wasm';
import {describeSplineKernel} from '@deepspline/testing';
import {trackHeapBlocks, useWasm} from './helpers';

const heap = trackHeapBlocks();
const setup = async () => {
  await useWasm();
  heap.install();
};
afterAll(() => {
  heap.uninstall();
  setWasmBinary(null);
});

for (const binary of ['simd', 'scalar'] as WasmBinary[]) {
  describeSplineKernel({backend: 'wasm', implementation: 'kernel', bitExact: true, label: `${binary} binary`,
    setup, beforeEachCheck: () => setWasmBinary(binary), liveAllocations: heap.live});
}
describeSplineKernel({backend: 'wasm', implementation: 'fallback', bitExact: false, setup,
  beforeEachCheck: () => setWasmBinary(null), liveAllocations: heap.live});
