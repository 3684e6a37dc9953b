/**
 * `@deepspline/webgl`: fused WebGL (GLSL) kernels for the linear-spline op of
 * `@deepspline/core`, for TensorFlow.js's `webgl` backend.
 *
 * Importing this package registers both kernels (`LinearSpline` and `LinearSplineGrad`)
 * for `webgl`, so that `linearSpline` and the `SplineActivation` layer run as single GPU
 * programs instead of the composite fallback.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-webgl';
 * import {linearSpline, splineImplementation} from '@deepspline/core';
 * import '@deepspline/webgl';
 *
 * await tf.setBackend('webgl');
 * console.log(splineImplementation());                       // 'kernel'
 * linearSpline(tf.tensor1d([-2, 0.5, 3]), tf.tensor2d([[0, 0, 1]]),
 *     {start: -1, step: 1}).print();                         // [0, 0.5, 3]
 * ```
 *
 * The GLSL programs are in `@deepspline/webgl/internal`.
 *
 * @packageDocumentation
 */
import './register_webgl.js';

export {linearSplineGradWebGLConfig, linearSplineWebGLConfig} from './kernels.js';
