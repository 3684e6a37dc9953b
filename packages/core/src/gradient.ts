/** The gradient of the {@link LinearSpline} kernel, for every backend with fused kernels. */
import {registerGradient} from '@tensorflow/tfjs-core';
import {runKernel} from './tfjs_internals.js';
import type {GradConfig, NamedAttrMap, Tensor} from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from './kernel_names.js';

/**
 * Gradient config: runs {@link LinearSplineGrad} once, eagerly, and hands out `dx` and
 * `dcoefficients`. The engine disposes whichever output is not needed when its backward
 * scope ends.
 */
export const linearSplineGradConfig: GradConfig = {
  kernelName: LinearSpline,
  inputsToSave: ['x', 'coefficients'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, coefficients] = saved;
    const [dx, dc] = runKernel(LinearSplineGrad, {dy: dy as Tensor, x, coefficients}, attrs) as
        Tensor[];
    return {x: () => dx, coefficients: () => dc};
  },
};

registerGradient(linearSplineGradConfig);
