/** Registers the `LinearSpline` and `LinearSplineGrad` kernels for the `webgpu` backend. */
import {registerKernel} from '@tensorflow/tfjs-core';
import {linearSplineGradWebGPUConfig, linearSplineWebGPUConfig} from './kernels.js';

for (const config of [linearSplineWebGPUConfig, linearSplineGradWebGPUConfig]) {
  registerKernel(config);
}
