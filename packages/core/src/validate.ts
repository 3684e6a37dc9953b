/** Argument checks shared by the op, the kernels of every backend and the spline math. */
import {ArgumentError, NonFiniteError} from './errors.js';

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

/**
 * `args` if it is an arguments object (not null, an array or a primitive); throws naming
 * `context` and, when given, the object's `fields` (`'lambda'` -> `{lambda}`) otherwise.
 */
export function checkArgsObject(args: unknown, context: string, fields?: string): Record<string, unknown> {
  if (args == null || typeof args !== 'object' || Array.isArray(args)) {
    const shape = fields === undefined ? '' : ` {${fields}}`;
    throw new ArgumentError(`${context}: expected an arguments object${shape}, got ${describe(args)}`);
  }
  return args as Record<string, unknown>;
}

/** Throws unless `value` is a finite number. */
export function checkFinite(name: string, value: unknown, context: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new NonFiniteError(`${context}: expected ${name} to be a finite number, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: unknown, context: string): number {
  checkFinite(name, value, context);
  if ((value as number) <= 0) {
    throw new ArgumentError(`${context}: expected ${name} > 0, got ${describe(value)}`);
  }
  return value as number;
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(name: string, value: unknown, context: string): number {
  checkFinite(name, value, context);
  if ((value as number) < 0) {
    throw new ArgumentError(`${context}: expected ${name} >= 0, got ${describe(value)}`);
  }
  return value as number;
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(name: string, value: unknown, min: number, context: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`${context}: expected ${name} to be an integer >= ${min}, got ${describe(value)}`);
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
    throw new ArgumentError(`${context}: expected x to be a float32 tensor, got dtype ${describe(xDtype)}`);
  }
  if (coefficientsDtype !== 'float32') {
    throw new ArgumentError(`${context}: expected coefficients to be a float32 tensor, ` +
      `got dtype ${describe(coefficientsDtype)}`);
  }
  if (cs.length !== 2) {
    throw new ArgumentError(`${context}: expected coefficients of rank 2 ([C, K]), got shape ${describe(cs)}`);
  }
  const [C, K] = cs;
  if (K < 3) {
    throw new ArgumentError(`${context}: expected at least 3 coefficients per spline (K >= 3), ` +
      `got coefficients of shape ${describe(cs)}`);
  }
  const channels = xShape.length === 0 ? 1 : xShape[xShape.length - 1];
  if (C !== 1 && C !== channels) {
    const expected = xShape.length === 0 ? 'expected [1, K] (x is a scalar: one value, one spline)' :
      channels === 1 ? 'expected [1, K] (x has 1 channel on its last axis: one spline)' :
        `expected [${channels}, K] (one spline per channel of the last axis) or [1, K] (one shared spline)`;
    throw new ArgumentError(`${context}: coefficients of shape ${describe(cs)} do not match x of shape ` +
      `${describe(xShape)}: ${expected}`);
  }
  checkFinite('start', info.start, context);
  checkPositive('step', info.step, context);
  // Knots beyond float64's range have no segment line (t_k s is Inf - Inf): refuse the grid.
  if (!Number.isFinite(info.start + (K - 1) * info.step)) {
    throw new NonFiniteError(`${context}: expected the last knot start + (K - 1) * step to be finite, ` +
      `got start ${describe(info.start)}, step ${describe(info.step)}, K ${K}`);
  }
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
    throw new ArgumentError(`${context}: expected dy of shape ${describe(xShape)}, got ${describe(dyShape)}`);
  }
  if (info.dyDtype !== 'float32') {
    throw new ArgumentError(`${context}: expected dy to be a float32 tensor, got dtype ${describe(info.dyDtype)}`);
  }
  return dims;
}

/** A kernel input as backends see it (a `TensorInfo`). */
export interface KernelTensor {
  /** The backend's handle of the data. */
  dataId: object;
  /** The shape. */
  shape: number[];
  /** The dtype. */
  dtype: string;
}

/** The checked inputs and attributes of a `LinearSpline` kernel call, with its dimensions. */
export interface SplineKernelArgs<T extends KernelTensor = KernelTensor> extends SplineDims {
  /** The input `x`. */
  x: T;
  /** The coefficients `[C, K]`. */
  coefficients: T;
  /** The first knot. */
  start: number;
  /** The knot spacing. */
  step: number;
  /** Number of elements of `x`. */
  size: number;
}

/** The checked inputs of a `LinearSplineGrad` kernel call. */
export interface SplineGradKernelArgs<T extends KernelTensor = KernelTensor> extends SplineKernelArgs<T> {
  /** The upstream gradient, of the shape of `x`. */
  dy: T;
}

function input<T>(inputs: Record<string, unknown>, name: string, context: string): T {
  const t = inputs?.[name] as KernelTensor | undefined;
  if (t == null || typeof t !== 'object' || !Array.isArray(t.shape) || t.dataId == null) {
    throw new ArgumentError(`${context}: expected input ${name} to be a tensor, got ${describe(t)}`);
  }
  return t as unknown as T;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The one check of a `LinearSpline` kernel call, for every backend: reads `x` and
 * `coefficients` from the kernel's `inputs` and `start`/`step` from its `attrs`, checks them
 * ({@link checkSplineArgs}) and returns them with `C`, `K`, the channel count and the size.
 */
export function splineKernelArgs<T extends KernelTensor>(inputs: object, attrs: unknown,
    context = 'linearSpline'): SplineKernelArgs<T> {
  const ins = inputs as Record<string, unknown>;
  const x = input<T>(ins, 'x', context);
  const coefficients = input<T>(ins, 'coefficients', context);
  const {start, step} = (attrs ?? {}) as {start?: number, step?: number};
  const dims = checkSplineArgs({xShape: x.shape, xDtype: x.dtype, coefficientsShape: coefficients.shape,
    coefficientsDtype: coefficients.dtype, start: start as number, step: step as number}, context);
  return {...dims, x, coefficients, start: start as number, step: step as number, size: sizeOf(x.shape)};
}

/**
 * The one check of a `LinearSplineGrad` kernel call, for every backend:
 * {@link splineKernelArgs} and `dy` (float32, of the shape of `x`).
 */
export function splineGradKernelArgs<T extends KernelTensor>(inputs: object, attrs: unknown,
    context = 'linearSpline gradient'): SplineGradKernelArgs<T> {
  const ins = inputs as Record<string, unknown>;
  // x and coefficients first, in the forward kernel's order, then dy
  const x = input<T>(ins, 'x', context);
  const coefficients = input<T>(ins, 'coefficients', context);
  const dy = input<T>(ins, 'dy', context);
  const {start, step} = (attrs ?? {}) as {start?: number, step?: number};
  const dims = checkSplineGradArgs({xShape: x.shape, xDtype: x.dtype,
    coefficientsShape: coefficients.shape, coefficientsDtype: coefficients.dtype,
    start: start as number, step: step as number, dyShape: dy.shape, dyDtype: dy.dtype}, context);
  return {...dims, x, coefficients, dy, start: start as number, step: step as number,
    size: sizeOf(x.shape)};
}
