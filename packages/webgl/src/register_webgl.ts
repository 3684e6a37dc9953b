/** Registers the fused `LinearSpline` and `LinearSplineGrad` kernels for the `webgl` backend. */
import {registerKernel} from '@tensorflow/tfjs-core';
import {linearSplineGradWebGLConfig, linearSplineWebGLConfig} from './kernels.js';

for (const config of [linearSplineWebGLConfig, linearSplineGradWebGLConfig]) {
  registerKernel(config);
}
