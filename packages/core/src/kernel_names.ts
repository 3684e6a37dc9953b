/**
 * Kernel names and their input/attribute types, defined once for every backend.
 *
 * A backend package (`@deepspline/wasm`, `@deepspline/webgl`, ...) registers kernels under
 * exactly these names with `tf.registerKernel`; the op {@link linearSpline} looks them up.
 */
import type {NamedTensorInfoMap, TensorInfo} from '@tensorflow/tfjs-core';

/** Forward kernel: `y = spline(x)` elementwise, channels on the last axis. */
export const LinearSpline = 'LinearSpline';
/** Backward kernel: `[dx, dcoefficients]` in one pass over `x`. */
export const LinearSplineGrad = 'LinearSplineGrad';

/** Inputs of the {@link LinearSpline} kernel. */
export interface LinearSplineInputs extends NamedTensorInfoMap {
  /** Float32 tensor of any rank; channels on its last axis. */
  x: TensorInfo;
  /** Float32 `[C, K]`: `C` equals the last-axis size of `x`, or `C = 1` (shared spline). */
  coefficients: TensorInfo;
}

/** Inputs of the {@link LinearSplineGrad} kernel. */
export interface LinearSplineGradInputs extends NamedTensorInfoMap {
  /** Upstream gradient, same shape as `x`. */
  dy: TensorInfo;
  /** The forward pass's input `x`. */
  x: TensorInfo;
  /** The forward pass's coefficients, `[C, K]`. */
  coefficients: TensorInfo;
}

/**
 * Attributes of both kernels: the knots are `start + k * step`, `k = 0 .. K-1`.
 * The index signature lets the object be passed as tfjs `NamedAttrMap`.
 */
export interface LinearSplineAttrs {
  /** Position of the first knot `t_0`. */
  start: number;
  /** Knot spacing `T > 0`. */
  step: number;
  [key: string]: number;
}
