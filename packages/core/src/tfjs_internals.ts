/**
 * Every use of tfjs's private API by `@deepspline/core`, written against tfjs 4.22, each with
 * why the public API does not suffice. When tfjs changes, this file is where to look.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {NamedAttrMap, NamedTensorMap, Tensor, TensorInfo} from '@tensorflow/tfjs-core';

/**
 * Runs a registered kernel through the engine, as tfjs's own ops do (`ENGINE.runKernel`, tfjs
 * 4.22): recorded on the gradient tape, tracked by `tidy`, dispatched to the active backend's
 * kernel. The public API registers kernels (`tf.registerKernel`) but offers no call of one by
 * name; `tf.engine()` is exported, its `runKernel` is not documented.
 */
export function runKernel(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap): Tensor | Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs);
}

/** The part of tfjs-backend-cpu's `MathBackendCPU` (tfjs 4.22) that the cpu kernels use. */
interface CpuBackend {
  data: {get(dataId: object): {values: unknown}};
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/**
 * The float32 values of a tensor on the cpu backend, and a tensor made from values
 * (`backend.data.get(dataId).values`, `backend.makeTensorInfo`, tfjs 4.22): a kernel receives
 * `TensorInfo`s, whose data only the backend's private storage holds; tfjs-backend-cpu's own
 * kernels read it the same way. Importing `MathBackendCPU` for its type would make
 * tfjs-backend-cpu a dependency of core.
 */
export function cpuBackend(backend: unknown): {values(t: TensorInfo): Float32Array,
    make(shape: number[], values: Float32Array): TensorInfo} {
  const cpu = backend as CpuBackend;
  return {
    values: (t) => cpu.data.get(t.dataId).values as Float32Array,
    make: (shape, values) => cpu.makeTensorInfo(shape, 'float32', values),
  };
}
