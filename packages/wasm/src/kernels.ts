/**
 * The `LinearSpline` / `LinearSplineGrad` kernels of the `wasm` backend: they run the
 * AssemblyScript kernels in place on the backend's heap (inputs read at their memoryOffset,
 * outputs allocated with `makeOutput`, scratch with the backend's `_malloc`/`_free`). Which
 * executor a call ends in, and when the binary attaches: `lifecycle.ts`.
 */
import {util} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {ArgumentError, LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {linearSplineForwardImpl, linearSplineGradImpl, splineGradKernelArgs, splineKernelArgs}
  from '@deepspline/core/internal';
import {attach} from './lifecycle.js';
import {allocationError, asWasmBackend, free, heapFloat32, malloc, memoryOffset, outsideHeap}
  from './tfjs_internals.js';
import type {WasmBackendLike} from './tfjs_internals.js';

/** Largest scratch table the kernels allocate (their byte offsets are 32-bit integers). */
const MAX_TABLE_BYTES = 2 ** 31 - 4096;

/**
 * Bytes of a kernel table for `C` splines of `K` coefficients with `perSegment` bytes per
 * segment (16 forward, 32 backward), checked in float64 before the 32-bit kernels compute it.
 */
export function checkTableBytes(C: number, K: number, perSegment: number): void {
  const bytes = C * (K - 1) * perSegment;
  if (!(bytes <= MAX_TABLE_BYTES)) {
    throw new ArgumentError(`@deepspline/wasm: expected coefficients whose table (${perSegment} bytes x ` +
      `${C} splines x ${K - 1} segments) fits in 2 GiB, got ${C} x ${K} coefficients ` +
      `(${bytes} bytes)`);
  }
}

function heapValues(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.readSync(t.dataId) as Float32Array;
}

/**
 * A float32 output of `shape` in the backend's heap, filled with `values` if given. tfjs's
 * `makeOutput` does not check its `_malloc`: a failure there (0, a throw, or a block that ends
 * past the heap) becomes the package's clear error here, before any kernel writes through it.
 */
function output(backend: WasmBackendLike, shape: number[], values?: Float32Array): TensorInfo {
  const n = util.sizeFromShape(shape);
  const what = `for an output of shape [${shape}]`;
  let out: TensorInfo;
  try {
    out = backend.makeOutput(shape, 'float32');
  } catch (e) {
    throw allocationError(4 * n, what, e);
  }
  const outside = n > 0 ? outsideHeap(backend, memoryOffset(backend, out), 4 * n) : null;
  if (n > 0 && (memoryOffset(backend, out) === 0 || outside != null)) {
    backend.disposeData(out.dataId);
    throw allocationError(4 * n, what, outside ?? undefined);
  }
  if (values !== undefined && n > 0) {
    heapFloat32(backend, memoryOffset(backend, out), n).set(values);
  }
  return out;
}

/**
 * Allocates `scratchBytes` of scratch space and outputs of `shapes`, all before `run` reads
 * any offset (an allocation may grow the heap), runs it, and frees the scratch. If anything
 * fails, every output allocated so far is disposed too: an error leaves nothing behind.
 */
function allocateAndRun(backend: WasmBackendLike, scratchBytes: number, shapes: number[][],
    run: (tab: number, outs: TensorInfo[]) => void): TensorInfo[] {
  const tab = malloc(backend, scratchBytes);
  const outs: TensorInfo[] = [];
  try {
    for (const shape of shapes) outs.push(output(backend, shape));
    run(tab, outs);
  } catch (e) {
    for (const o of outs) backend.disposeData(o.dataId);
    throw e;
  } finally {
    free(backend, tab);
  }
  return outs;
}

/**
 * Whether every coefficient is finite. The wasm kernels' per-segment tables `(a, s)` do not
 * encode core's rule for a non-finite coefficient (NaN on its segments; `a + x s` gives ±Inf
 * for some inputs), so such calls take the JavaScript rule instead: rare (a diverged model),
 * and a scan of `C K` values, the same order as building the table. The view is dropped
 * before anything is allocated.
 */
function coefficientsFinite(backend: WasmBackendLike, coefficients: TensorInfo, count: number): boolean {
  const v = heapFloat32(backend, memoryOffset(backend, coefficients), count);
  for (let i = 0; i < count; ++i) if (v[i] - v[i] !== 0) return false;
  return true;
}

const forward: KernelFunc = ({inputs, backend, attrs}) => {
  const a = splineKernelArgs<TensorInfo>(inputs, attrs);
  const {x, coefficients, C, K, channels, size: n} = a;
  const b = asWasmBackend(backend);
  if (n === 0) return output(b, x.shape.slice());
  const kernels = attach(b);
  if (kernels === null || !coefficientsFinite(b, coefficients, C * K)) {
    // The JavaScript rule: non-finite coefficients, or a kernel run directly after it was
    // disabled.
    return output(b, x.shape.slice(), linearSplineForwardImpl(heapValues(b, x),
      heapValues(b, coefficients), C, K, a.start, a.step));
  }
  checkTableBytes(C, K, 16);
  return allocateAndRun(b, kernels.tableSize(C, K), [x.shape.slice()], (tab, [out]) => {
    kernels.prepare(memoryOffset(b, coefficients), tab, C, K, a.start, a.step);
    kernels.forward(memoryOffset(b, x), tab, memoryOffset(b, out), n, C, channels, K, a.start,
      a.step);
  })[0];
};

const backward: KernelFunc = ({inputs, backend, attrs}) => {
  const a = splineGradKernelArgs<TensorInfo>(inputs, attrs);
  const {dy, x, coefficients, C, K, channels, size: n} = a;
  const b = asWasmBackend(backend);
  const kernels = attach(b);
  if (kernels === null || !coefficientsFinite(b, coefficients, C * K)) {
    const {dx, dc} = linearSplineGradImpl(heapValues(b, dy), heapValues(b, x),
      heapValues(b, coefficients), C, K, a.start, a.step);
    const dxOut = output(b, x.shape.slice(), dx);
    try {
      return [dxOut, output(b, [C, K], dc)];
    } catch (e) {
      b.disposeData(dxOut.dataId);
      throw e;
    }
  }
  checkTableBytes(C, K, 32);
  return allocateAndRun(b, kernels.gradTableSize(C, K), [x.shape.slice(), [C, K]],
      (tab, [dx, dc]) => {
    kernels.prepareGrad(memoryOffset(b, coefficients), tab, C, K, a.start, a.step);
    kernels.backward(memoryOffset(b, dy), memoryOffset(b, x), tab, memoryOffset(b, dx), n, C,
      channels, K, a.start, a.step);
    kernels.finishGrad(tab, memoryOffset(b, dc), C, K);
  });
};

/** Kernel config of the wasm forward kernel. */
export const linearSplineWasmConfig: KernelConfig =
    {kernelName: LinearSpline, backendName: 'wasm', kernelFunc: forward, setupFunc: attach};
/** Kernel config of the wasm backward kernel. */
export const linearSplineGradWasmConfig: KernelConfig =
    {kernelName: LinearSplineGrad, backendName: 'wasm', kernelFunc: backward, setupFunc: attach};
