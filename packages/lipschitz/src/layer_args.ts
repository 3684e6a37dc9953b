/**
 * Argument checks shared by the deel-lip style layers (pooling, sampling, activations,
 * Frobenius and padded convolutions): each checks its arguments before `super`, which reads
 * `args.name`, and names the offending value.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import {checkArgsObject, checkFinite, checkInteger, describe} from '@deepspline/core/internal';

/** `args` if it is an arguments object, else a clear error naming `context`. */
export function argsObject<T>(args: unknown, context: string): T {
  return checkArgsObject(args, context) as T;
}

/** The `lipschitz` argument (the layer's constant by construction): finite and > 0, default 1. */
export function lipschitzArg(value: unknown, context: string): number {
  const k = checkFinite('lipschitz', value ?? 1, context);
  if (!(k > 0)) throw new ArgumentError(`${context}: expected lipschitz > 0, got ${describe(value)}`);
  return k;
}

/** A pool size: an integer >= 1 or two of them, as `[rows, cols]`. */
export function poolSizeArg(value: unknown, context: string, name = 'poolSize'): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new ArgumentError(`${context}: expected ${name} to be an integer >= 1 or two of them, got ${describe(value)}`);
  }
  return [checkInteger(`${name}[0]`, pair[0], 1, context), checkInteger(`${name}[1]`, pair[1], 1, context)];
}

/** Only `'channelsLast'` (the default) is supported. */
export function channelsLastArg(value: unknown, context: string): 'channelsLast' {
  if (value != null && value !== 'channelsLast') {
    throw new ArgumentError(`${context}: expected dataFormat 'channelsLast', got ${describe(value)}`);
  }
  return 'channelsLast';
}

/** The input shape of a single-input layer (`build` and `computeOutputShape` get either form). */
export function singleShape(inputShape: unknown): (number | null)[] {
  const shapes = inputShape as (number | null)[] | (number | null)[][];
  return (Array.isArray(shapes[0]) ? shapes[0] : shapes) as (number | null)[];
}

/** The first input tensor of `call`. */
export function firstInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** A 4-D input shape `[batch, rows, cols, channels]`, else a clear error. */
export function imageShape(inputShape: unknown, context: string): (number | null)[] {
  const shape = singleShape(inputShape);
  if (shape.length !== 4) {
    throw new ArgumentError(`${context}: expected a 4-D input [batch, rows, cols, channels], got input shape ${describe(shape)}`);
  }
  return shape;
}

/**
 * `value` rounded up by a few float64 roundings (`x * c`, `x / c`, a square root): each is
 * within 2^-53 relative, and 2^-50 covers them, so a factor computed in float64 from the
 * float32 constants a layer uses is never below the exact one.
 */
export function roundedUp(value: number): number {
  return value * (1 + 2 ** -50);
}

/**
 * `sqrt` with deel-lip's gradient `dy / (2 (sqrt(x) + eps))`: finite at 0 (an all-zero
 * window), where the exact gradient is infinite. The value is the exact square root.
 */
export function sqrtWithFiniteGradient(x: tf.Tensor, eps: number): tf.Tensor {
  const op = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const root = tf.sqrt(t);
    save([root]);
    return {value: root, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.div(dy, tf.mul(tf.add(saved[0]!, eps), 2))};
  }) as never) as unknown as (t: tf.Tensor) => tf.Tensor;
  return op(x);
}

/** The `epsGradSqrt` argument of the l2-norm pooling layers: finite and >= 0, default 1e-6. */
export function epsGradSqrtArg(value: unknown, context: string): number {
  const eps = checkFinite('epsGradSqrt', value ?? DEFAULT_EPS_GRAD_SQRT, context);
  if (eps < 0) throw new ArgumentError(`${context}: expected epsGradSqrt >= 0, got ${describe(value)}`);
  return eps;
}

/** deel-lip's `eps_grad_sqrt` default. */
export const DEFAULT_EPS_GRAD_SQRT = 1e-6;
