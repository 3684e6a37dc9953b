/**
 * `@deepspline/webgpu`: WGSL compute kernels for the linear-spline op of `@deepspline/core`,
 * for TensorFlow.js's `webgpu` backend (`@tensorflow/tfjs-backend-webgpu`).
 *
 * Importing this package registers both kernels (`LinearSpline` and `LinearSplineGrad`)
 * for `webgpu`, so that `linearSpline` and the `SplineActivation` layer run as single GPU
 * programs instead of the composite fallback.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import {linearSpline, splineImplementation} from '@deepspline/core';
 * import '@deepspline/webgpu';
 *
 * await tf.setBackend('webgpu');
 * console.log(splineImplementation());                       // 'kernel'
 * linearSpline(tf.tensor1d([-2, 0.5, 3]), tf.tensor2d([[0, 0, 1]]),
 *     {start: -1, step: 1}).print();                         // [0, 0.5, 3]
 * ```
 *
 * The WGSL programs are in `@deepspline/webgpu/internal`.
 *
 * @packageDocumentation
 */
import './register_webgpu.js';

export {linearSplineGradWebGPUConfig, linearSplineWebGPUConfig} from './kernels.js';
