/** Registers the fused {@link LinearSpline} and {@link LinearSplineGrad} kernels for `cpu`. */
import {registerKernel} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {linearSplineForwardImpl, linearSplineGradImpl} from './cpu_impl.js';
import {LinearSpline, LinearSplineGrad} from './kernel_names.js';
import {splineGradKernelArgs, splineKernelArgs} from './validate.js';
import {cpuBackend} from './tfjs_internals.js';

const forward: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, coefficients, start, step, C, K} = splineKernelArgs<TensorInfo>(inputs, attrs);
  const cpu = cpuBackend(backend);
  return cpu.make(x.shape.slice(), linearSplineForwardImpl(cpu.values(x), cpu.values(coefficients), C, K, start, step));
};

const backward: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, coefficients, start, step, C, K} = splineGradKernelArgs<TensorInfo>(inputs, attrs);
  const cpu = cpuBackend(backend);
  const {dx, dc} = linearSplineGradImpl(cpu.values(dy), cpu.values(x), cpu.values(coefficients), C, K, start, step);
  return [cpu.make(x.shape.slice(), dx), cpu.make([C, K], dc)];
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
