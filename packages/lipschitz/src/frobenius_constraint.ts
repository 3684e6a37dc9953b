/** deel-lip's `FrobeniusConstraint` (`deel/lip/constraints.py`): the kernel divided by its Frobenius norm. */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkNonNegative} from '@deepspline/core/internal';
import {CONSTRAINT_BASE} from '@deepspline/layers/internal';

/** Arguments of {@link frobeniusConstraint}. */
export interface FrobeniusConstraintArgs {
  /**
   * Added to the norm (finite, >= 0): `w / (||w||_F + eps)`.
   * @defaultValue 1e-7 (deel-lip's)
   */
  eps?: number;
}

/** A weight constraint `w / (||w||_F + eps)` (see {@link frobeniusConstraint}). */
export class FrobeniusConstraint extends CONSTRAINT_BASE {
  /** Class name used for serialization. */
  static className = 'FrobeniusConstraint';
  /** Added to the norm. */
  readonly eps: number;

  /** See {@link frobeniusConstraint}. */
  constructor(args?: FrobeniusConstraintArgs) {
    super();
    const context = 'frobeniusConstraint';
    this.eps = checkNonNegative('eps', checkArgsObject(args ?? {}, context, 'eps').eps ?? 1e-7, context);
  }

  /** The constrained kernel (a new tensor). */
  apply(w: Tensor): Tensor {
    return tf.tidy(() => tf.div(w, tf.add(tf.norm(w), this.eps)));
  }

  /** The config (`eps`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {eps: this.eps};
  }
}

tf.serialization.registerClass(FrobeniusConstraint);

/**
 * deel-lip's `FrobeniusConstraint`: divides the whole kernel by its Frobenius norm (plus
 * `eps`), so its spectral norm, which the Frobenius norm bounds, is below 1; for a one-unit
 * dense layer the two norms are equal (deel-lip's `FrobeniusDense`). Applied after every batch
 * by `constraintCallback()` of `@deepspline/layers` (tfjs's `fit` does not apply constraints).
 *
 * @example
 * ```ts
 * const head = tf.layers.dense({units: 1, kernelConstraint: frobeniusConstraint()});
 * ```
 */
export function frobeniusConstraint(args?: FrobeniusConstraintArgs): FrobeniusConstraint {
  return new FrobeniusConstraint(args);
}
