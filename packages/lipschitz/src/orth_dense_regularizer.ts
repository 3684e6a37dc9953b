/** deel-lip's `OrthDenseRegularizer` (`deel/lip/regularizers.py`): a penalty pushing a dense kernel to orthonormal. */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Scalar, Tensor} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkNonNegative, describe} from '@deepspline/core/internal';
import {REGULARIZER_BASE} from '@deepspline/layers/internal';

/** Arguments of {@link orthDenseRegularizer}. */
export interface OrthDenseRegularizerArgs {
  /**
   * The weight of the penalty (finite, >= 0).
   * @defaultValue 1
   */
  lambdaOrth?: number;
}

/** `lambdaOrth * ||W W^T - I||_F^2` on the smaller Gram matrix (see {@link orthDenseRegularizer}). */
export class OrthDenseRegularizer extends REGULARIZER_BASE {
  /** Class name used for serialization. */
  static className = 'OrthDenseRegularizer';
  /** The weight of the penalty. */
  readonly lambdaOrth: number;

  /** See {@link orthDenseRegularizer}. */
  constructor(args?: OrthDenseRegularizerArgs) {
    super();
    const context = 'orthDenseRegularizer';
    this.lambdaOrth = checkNonNegative('lambdaOrth', checkArgsObject(args ?? {}, context, 'lambdaOrth').lambdaOrth ?? 1,
      context);
  }

  /** The penalty of a dense kernel `[in, out]`, a scalar. */
  apply(w: Tensor): Scalar {
    if (!(w instanceof tf.Tensor) || w.rank !== 2) {
      const got = w instanceof tf.Tensor ? `a tensor of shape [${w.shape}]` : describe(w);
      throw new ArgumentError(`orthDenseRegularizer: expected a dense kernel of shape [in, out], got ${got}`);
    }
    const [rows, cols] = w.shape as [number, number];
    return tf.tidy(() => {
      const gram = rows <= cols ? tf.matMul(w, w, false, true) : tf.matMul(w, w, true, false);
      return tf.mul(tf.sum(tf.square(tf.sub(gram, tf.eye(Math.min(rows, cols))))), this.lambdaOrth) as Scalar;
    });
  }

  /** The config (`lambda_orth`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {lambdaOrth: this.lambdaOrth};
  }
}

tf.serialization.registerClass(OrthDenseRegularizer);

/**
 * deel-lip's `OrthDenseRegularizer`: `lambdaOrth * ||G - I||_F^2` with `G` the smaller Gram
 * matrix of the dense kernel `W` (`W W^T` or `W^T W`), zero exactly when `W` has orthonormal
 * rows or columns (every singular value 1). A soft alternative to {@link spectralConstraint};
 * it does not bound the Lipschitz constant by itself (the certificates still come from
 * {@link lipschitzBound}).
 *
 * @example
 * ```ts
 * const layer = tf.layers.dense({units: 16, kernelRegularizer: orthDenseRegularizer({lambdaOrth: 0.1})});
 * ```
 */
export function orthDenseRegularizer(args?: OrthDenseRegularizerArgs): OrthDenseRegularizer {
  return new OrthDenseRegularizer(args);
}
