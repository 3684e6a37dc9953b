/**
 * The terms and argument checks shared by the losses (internal): deel-lip's sign convention,
 * the hinge, the one-vs-all Kantorovich-Rubinstein term, and the checks of `tau`, `margin`
 * and `alpha` that the factories and the parameters' setters both run.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {NonFiniteError} from '@deepspline/core';
import {checkArgsObject as checkArgs, checkNonNegative, checkPositive} from '@deepspline/core/internal';

/** Margin when `margin` is not given (deel-lip's `min_margin` default). */
export const DEFAULT_MARGIN = 1;

/** core's `checkArgsObject` with the losses' argument order (`fields` before `context`). */
export function checkArgsObject(args: unknown, fields: string, context: string): Record<string, unknown> {
  return checkArgs(args, context, fields);
}

export function checkTau(args: unknown, context: string): number {
  return checkPositive('tau', checkArgsObject(args, 'tau', context).tau, context);
}

export function checkMargin(args: Record<string, unknown>, context: string): number {
  return checkNonNegative('margin', args.margin ?? DEFAULT_MARGIN, context);
}

/** +1 where `yTrue > 0`, -1 elsewhere: the sign convention of deel-lip's losses. */
export function signs(yTrue: Tensor): Tensor {
  return tf.where(tf.greater(yTrue, 0), tf.onesLike(yTrue), tf.neg(tf.onesLike(yTrue)));
}

/** `relu(margin/2 - sign * f)` element-wise. */
export function hinge(yTrue: Tensor, yPred: Tensor, margin: number): Tensor {
  return tf.relu(tf.sub(margin / 2, tf.mul(signs(yTrue), yPred)));
}

/** deel-lip's `multiclass_hinge`: the one-vs-all hinge, the true class weighted by K - 1. */
export function multiclassHingePerSample(yTrue: Tensor, yPred: Tensor, margin: number): Tensor {
  const classes = yPred.shape[yPred.rank - 1]!;
  const h = hinge(yTrue, yPred, margin);
  return tf.mean(tf.where(tf.greater(yTrue, 0), tf.mul(h, classes - 1), h), -1);
}

/**
 * Per-sample terms of the Kantorovich-Rubinstein loss on `[batch, units]`: their batch mean
 * is the mean over units of `E[f | y > 0] - E[f | y <= 0]` (the mean of a class absent from
 * the batch counts as 0, as in deel-lip).
 */
export function krPerSample(yTrue: Tensor, yPred: Tensor): Tensor {
  const batch = yPred.shape[0]!;
  const pos = tf.cast(tf.greater(yTrue, 0), 'float32');
  const nPos = tf.sum(pos, 0, true);
  const wPos = tf.div(pos, tf.maximum(nPos, 1));
  const wNeg = tf.div(tf.sub(1, pos), tf.maximum(tf.sub(batch, nPos), 1));
  return tf.mean(tf.mul(tf.mul(yPred, tf.sub(wPos, wNeg)), batch), -1);
}

export function checkAlpha(alpha: unknown, context: string): number {
  if (alpha === Infinity) {
    throw new NonFiniteError(`${context}: expected alpha to be a finite number >= 0, got Infinity (for the ` +
      `hinge term alone use hingeMargin or multiclassHinge)`);
  }
  return checkNonNegative('alpha', alpha, context);
}

export function checkHkrArgs(args: unknown, context: string): {alpha: number, margin: number} {
  const a = checkArgsObject(args, 'alpha, margin', context);
  return {alpha: checkAlpha(a.alpha, context), margin: checkMargin(a, context)};
}

/** The setters' checks of `tau`, `margin` and `alpha`: the factories' checks. */
export const tauCheck = (context: string) => ({tau: (v: unknown) => checkPositive('tau', v, context)});
export const marginCheck = (context: string) => ({margin: (v: unknown) => checkNonNegative('margin', v, context)});
export const hkrCheck = (context: string) => ({...marginCheck(context), alpha: (v: unknown) => checkAlpha(v, context)});
