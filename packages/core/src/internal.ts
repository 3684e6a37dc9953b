/**
 * `@deepspline/core/internal`: what backend packages (`@deepspline/wasm`, `@deepspline/webgl`,
 * a backend of your own) build on, kept off the main entry point so that users see the op,
 * the layer-facing math and nothing else:
 * - the one check of every kernel call ({@link splineKernelArgs}, {@link splineGradKernelArgs})
 *   and the argument checks behind it;
 * - the per-element rule on typed arrays (the cpu kernel's code, which the wasm kernels match
 *   bit for bit) and the cpu kernel and gradient configs;
 * - the composite fallback.
 *
 * Not covered by semantic versioning beyond what the backend packages of the same release
 * need.
 *
 * @packageDocumentation
 */
import './register_cpu.js';
import './gradient.js';

export {linearSplineForwardImpl, linearSplineGradImpl} from './cpu_impl.js';
export {linearSplineCpuConfig, linearSplineGradCpuConfig} from './register_cpu.js';
export {linearSplineGradConfig} from './gradient.js';
export {linearSplineFallback} from './fallback.js';
export {setSplineMathOnDevice, splineMathOnDevice} from './spline_math.js';
export {checkArgsObject, checkFinite, checkInteger, checkNonNegative, checkPositive, checkSplineArgs, checkSplineGradArgs, describe,
  splineGradKernelArgs, splineKernelArgs} from './validate.js';
export type {KernelTensor, SplineArgsInfo, SplineDims, SplineGradArgsInfo, SplineGradKernelArgs,
  SplineKernelArgs} from './validate.js';
