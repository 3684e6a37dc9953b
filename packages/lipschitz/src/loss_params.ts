/**
 * Settable loss parameters: the losses' `tau`, `margin` and `alpha` are properties of the loss
 * function that may change between training steps (deel-lip keeps them in `tf.Variable`s for
 * its `LossParamScheduler`). tfjs's `fit` calls the very function given to `compile` at every
 * step (`losses.get(fn)` returns `fn`), and the function reads the property at every call, so
 * a compiled model's loss sees a new value from the next step on.
 */
import {ArgumentError} from '@deepspline/core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';

/**
 * A loss (as in `model.compile({loss})`) whose parameters `P` are numeric properties that may
 * be set between steps: `loss.tau = 32`. Setting checks the value as the factory does (an
 * error naming it, the old value kept).
 */
export type ParametrizedLoss<P extends string> = ((yTrue: Tensor, yPred: Tensor) => Tensor) &
  {[K in P]: number};

const PARAMS = Symbol('deepspline.lossParams');

/**
 * Makes `params`' fields settable properties of `fn` (checked by `checks`); `fn` reads
 * `params` at every call.
 */
export function withParams<P extends string>(fn: (yTrue: Tensor, yPred: Tensor) => Tensor,
    params: Record<P, number>, checks: Record<P, (value: unknown) => number>): ParametrizedLoss<P> {
  const names = Object.keys(params) as P[];
  for (const name of names) {
    // not enumerable: tfjs's save with includeOptimizer reads Object.keys(loss) as a loss dict
    Object.defineProperty(fn, name, {
      get: () => params[name],
      set: (value: unknown) => { params[name] = checks[name](value); },
    });
  }
  Object.defineProperty(fn, PARAMS, {value: names});
  return fn as ParametrizedLoss<P>;
}

/** The settable parameters of `loss` (empty for a function that has none). */
export function lossParams(loss: unknown): string[] {
  return typeof loss === 'function' ? ((loss as unknown as Record<symbol, string[]>)[PARAMS] ?? []) : [];
}

/** `loss`'s parameter `name`, after checking that it has one of that name. */
export function checkLossParam(loss: unknown, name: unknown, context: string): string {
  const names = lossParams(loss);
  if (typeof name !== 'string' || !names.includes(name)) {
    const lossName = typeof loss === 'function' ? loss.name : describe(loss);
    throw new ArgumentError(`${context}: the loss ${lossName} has no settable parameter ${describe(name)}; ` +
      (names.length > 0 ? `its parameters are ${names.join(', ')}` :
        'use a loss of @deepspline/lipschitz (losses.*), whose tau, margin or alpha can be set'));
  }
  return name;
}
