/** Argument checks shared by the op, the kernels of every backend and the spline math. */

/** Shape and dtype of the inputs, as kernels see them (no tensors needed). */
export interface SplineArgsInfo {
  /** Shape of the input `x`. */
  xShape: readonly number[];
  /** Dtype of `x` (must be `'float32'`). */
  xDtype: string;
  /** Shape of the coefficients (must be `[C, K]`). */
  coefficientsShape: readonly number[];
  /** Dtype of the coefficients (must be `'float32'`). */
  coefficientsDtype: string;
  /** The first knot `t_0`. */
  start: number;
  /** Knot spacing `T > 0`. */
  step: number;
}

/** Formats a value for an error message (arrays as `[a,b]`, strings quoted). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(',')}]`;
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') {
    try { return JSON.stringify(value); } catch { return String(value); }
  }
  return String(value);
}

/** Throws unless `value` is a finite number. */
export function checkFinite(name: string, value: unknown, context: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${context}: expected ${name} to be a finite number, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: unknown, context: string): number {
  checkFinite(name, value, context);
  if ((value as number) <= 0) {
    throw new Error(`${context}: expected ${name} > 0, got ${describe(value)}`);
  }
  return value as number;
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(name: string, value: unknown, min: number, context: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`${context}: expected ${name} to be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** The number of channels `C` and coefficients per spline `K` of a valid call. */
export interface SplineDims {
  /** Rows of the coefficient tensor (1 when shared). */
  C: number;
  /** Coefficients per spline. */
  K: number;
  /** Size of the last axis of `x` (1 for a scalar). */
  channels: number;
}

/**
 * Checks everything the `LinearSpline` kernels rely on and returns `C`, `K`. Every backend's
 * kernel calls this, so a direct `runKernel` with bad input fails with the same clear error
 * as the op, and no kernel can read out of range.
 */
export function checkSplineArgs(info: SplineArgsInfo, context = 'linearSpline'): SplineDims {
  const {xShape, xDtype, coefficientsShape: cs, coefficientsDtype} = info;
  if (xDtype !== 'float32') {
    throw new Error(`${context}: expected x to be a float32 tensor, got dtype ${describe(xDtype)}`);
  }
  if (coefficientsDtype !== 'float32') {
    throw new Error(`${context}: expected coefficients to be a float32 tensor, ` +
      `got dtype ${describe(coefficientsDtype)}`);
  }
  if (cs.length !== 2) {
    throw new Error(`${context}: expected coefficients of rank 2 ([C, K]), got shape ${describe(cs)}`);
  }
  const [C, K] = cs;
  if (K < 3) {
    throw new Error(`${context}: expected at least 3 coefficients per spline (K >= 3), ` +
      `got coefficients of shape ${describe(cs)}`);
  }
  const channels = xShape.length === 0 ? 1 : xShape[xShape.length - 1];
  if (C !== 1 && C !== channels) {
    throw new Error(`${context}: coefficients of shape ${describe(cs)} do not match x of shape ` +
      `${describe(xShape)}: expected [${channels}, K] (one spline per channel of the last axis) ` +
      `or [1, K] (one shared spline)`);
  }
  checkFinite('start', info.start, context);
  checkPositive('step', info.step, context);
  return {C, K, channels};
}

/** Shape and dtype of the inputs of the `LinearSplineGrad` kernel. */
export interface SplineGradArgsInfo extends SplineArgsInfo {
  /** Shape of the upstream gradient `dy` (must equal `xShape`). */
  dyShape: readonly number[];
  /** Dtype of `dy` (must be `'float32'`). */
  dyDtype: string;
}

/**
 * Checks everything the `LinearSplineGrad` kernels rely on ({@link checkSplineArgs}, and `dy`
 * float32 of the shape of `x`) and returns `C`, `K`. Every backend's gradient kernel calls
 * this one check, so that each rejects the same inputs with the same error.
 */
export function checkSplineGradArgs(info: SplineGradArgsInfo,
    context = 'linearSpline gradient'): SplineDims {
  const dims = checkSplineArgs(info, context);
  const {dyShape, xShape} = info;
  if (dyShape.length !== xShape.length || dyShape.some((d, i) => d !== xShape[i])) {
    throw new Error(`${context}: expected dy of shape ${describe(xShape)}, got ${describe(dyShape)}`);
  }
  if (info.dyDtype !== 'float32') {
    throw new Error(`${context}: expected dy to be a float32 tensor, got dtype ${describe(info.dyDtype)}`);
  }
  return dims;
}
