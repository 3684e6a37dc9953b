/**
 * `@deepspline/core`: the linear-spline op of deep spline networks for TensorFlow.js, its
 * fused cpu kernels and gradient, the composite fallback for every other backend, and the
 * spline math (knots, ReLU slopes, TV(2), BV(2), Lipschitz constants, sparsification, slope
 * clipping).
 *
 * Importing this package registers the cpu kernels and the gradient. Backend authors: the
 * kernel checks, the cpu kernel's code and the fallback are in `@deepspline/core/internal`.
 *
 * @packageDocumentation
 */
import './register_cpu.js';
import './gradient.js';

export {LinearSpline, LinearSplineGrad} from './kernel_names.js';
export type {LinearSplineAttrs, LinearSplineGradInputs, LinearSplineInputs} from './kernel_names.js';
export {linearSpline, setSplineImplementation, splineImplementation} from './op.js';
export type {LinearSplineGrid, SplineImplementation} from './op.js';
export {splineGrid} from './grid.js';
export type {SplineGrid, SplineGridArgs} from './grid.js';
export {activeKnots, bv2, coefficientsFromFunction, reluSlopes, sparsifyCoefficients, splineCurves, splineKnots,
  splineLipschitz, tv2} from './spline_math.js';
export {clipSlopes, softThresholdSlopes} from './slope_steps.js';
export {ArgumentError, DeepSplineError, NonFiniteError, UnsupportedError} from './errors.js';
