/** Registers the fused {@link LinearSpline} and {@link LinearSplineGrad} kernels for `cpu`. */
import {registerKernel} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {linearSplineForwardImpl, linearSplineGradImpl} from './cpu_impl.js';
import {LinearSpline, LinearSplineGrad} from './kernel_names.js';
import {splineGradKernelArgs, splineKernelArgs} from './validate.js';

/** The part of tfjs's `MathBackendCPU` these kernels use. */
interface CpuBackendLike {
  data: {get(dataId: object): {values: unknown}};
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function values(backend: CpuBackendLike, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

const forward: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, coefficients, start, step, C, K} = splineKernelArgs<TensorInfo>(inputs, attrs);
  const cpu = backend as unknown as CpuBackendLike;
  const out = linearSplineForwardImpl(values(cpu, x), values(cpu, coefficients), C, K, start, step);
  return cpu.makeTensorInfo(x.shape.slice(), 'float32', out);
};

const backward: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, coefficients, start, step, C, K} = splineGradKernelArgs<TensorInfo>(inputs, attrs);
  const cpu = backend as unknown as CpuBackendLike;
  const {dx, dc} = linearSplineGradImpl(values(cpu, dy), values(cpu, x),
    values(cpu, coefficients), C, K, start, step);
  return [cpu.makeTensorInfo(x.shape.slice(), 'float32', dx),
    cpu.makeTensorInfo([C, K], 'float32', dc)];
};

/** Kernel config of the cpu forward kernel. */
export const linearSplineCpuConfig: KernelConfig =
    {kernelName: LinearSpline, backendName: 'cpu', kernelFunc: forward};
/** Kernel config of the cpu backward kernel. */
export const linearSplineGradCpuConfig: KernelConfig =
    {kernelName: LinearSplineGrad, backendName: 'cpu', kernelFunc: backward};

for (const config of [linearSplineCpuConfig, linearSplineGradCpuConfig]) {
  registerKernel(config);
}
