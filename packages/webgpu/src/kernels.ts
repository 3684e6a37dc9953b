/**
 * The `LinearSpline` / `LinearSplineGrad` kernels for tfjs's `webgpu` backend.
 *
 * Forward: one program. Backward: `dx` in one program; `dcoefficients` by a reduction over
 * rows in one or two programs (see {@link reductionPlan} and the README for the cost).
 */
import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {splineGradKernelArgs, splineKernelArgs} from '@deepspline/core/internal';
import {gridUniformValues, LinearSplineDcPartialProgram, LinearSplineDcSumProgram,
  LinearSplineDxProgram, LinearSplineProgram, partialUniformValues, reductionPlan} from './programs.js';

const forward: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, coefficients, start, step, K} = splineKernelArgs<TensorInfo>(inputs, attrs);
  const webgpu = backend as WebGPUBackend;
  return webgpu.runWebGPUProgram(new LinearSplineProgram(x.shape, K), [x, coefficients],
    'float32', gridUniformValues(start, step));
};

const backward: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, coefficients, start, step, C, K, size: n} =
    splineGradKernelArgs<TensorInfo>(inputs, attrs);
  const webgpu = backend as WebGPUBackend;
  const dx = webgpu.runWebGPUProgram(new LinearSplineDxProgram(x.shape, K),
    [dy, x, coefficients], 'float32', gridUniformValues(start, step));
  if (n === 0) {
    return [dx, webgpu.makeTensorInfo([C, K], 'float32', new Float32Array(C * K))];
  }
  // C = 1 (shared): every element; else C is the channel count and each spline gets n / C.
  const plan = reductionPlan(n / C, C, K);
  const partial = webgpu.runWebGPUProgram(new LinearSplineDcPartialProgram(C, K, plan),
    [dy, x], 'float32', partialUniformValues(start, step, plan, C));
  if (plan.blocks === 1) return [dx, partial];
  const dc = webgpu.runWebGPUProgram(new LinearSplineDcSumProgram(C, K), [partial], 'float32');
  webgpu.disposeData(partial.dataId);
  return [dx, dc];
};

/** Kernel config of the webgpu forward kernel (`LinearSpline`). */
export const linearSplineWebGPUConfig: KernelConfig =
    {kernelName: LinearSpline, backendName: 'webgpu', kernelFunc: forward};
/** Kernel config of the webgpu backward kernel (`LinearSplineGrad`, returns `[dx, dcoefficients]`). */
export const linearSplineGradWebGPUConfig: KernelConfig =
    {kernelName: LinearSplineGrad, backendName: 'webgpu', kernelFunc: backward};
