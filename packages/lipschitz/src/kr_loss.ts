/**
 * The Kantorovich-Rubinstein losses on their own, deel-lip's `KR` and `MulticlassKR`
 * (`deel/lip/losses.py`): the estimate of the Wasserstein-1 distance between the classes that
 * {@link hkr} and {@link multiclassHkr} maximize.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';
import {krPerSample} from './loss_terms.js';

/**
 * The Kantorovich-Rubinstein term, deel-lip's `KR`: per sample of a batch `[batch, units]`
 * the terms whose batch mean is, averaged over the units, `E[f | y > 0] - E[f | y <= 0]`
 * (`batch * f / n+` for a positive, `-batch * f / n-` for a negative; a class absent from the
 * batch contributes 0). For a 1-Lipschitz `f` this is a lower bound of the Wasserstein-1
 * distance between the two classes' distributions, and the larger the better: it is the
 * value to *maximize*. deel-lip's sign is kept, so as a `compile` loss (which is minimized)
 * use `hkr({alpha: 0})`, which is its negative; as a metric, `kr()` reports the estimate.
 *
 * Labels as {@link hingeMargin} (`{0, 1}` or `{-1, 1}`, a value `> 0` is positive); one unit
 * or several independent ones. A NaN label makes the whole batch NaN (a batch statistic).
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.hkr({alpha: 0}), metrics: [losses.kr()]});
 * ```
 */
export function kr(): (yTrue: Tensor, yPred: Tensor) => Tensor {
  return krLoss('kr', 1);
}

/**
 * The multiclass Kantorovich-Rubinstein term, deel-lip's `MulticlassKR`: the one-vs-all
 * {@link kr} of every class (`E[f_k | class k] - E[f_k | not k]`) averaged over the classes,
 * as per-sample terms whose batch mean it is. Labels: one-hot rows (`{0, 1}` or `{-1, 1}`)
 * over at least 2 classes. To maximize it, minimize `multiclassHkr({alpha: 0})`.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.multiclassHkr({alpha: 10, margin: 1}),
 *   metrics: [losses.multiclassKr()]});
 * ```
 */
export function multiclassKr(): (yTrue: Tensor, yPred: Tensor) => Tensor {
  return krLoss('multiclassKr', 2);
}

/** The per-sample KR terms as a loss named `context`, for labels of at least `minUnits` columns. */
function krLoss(context: string, minUnits: number): (yTrue: Tensor, yPred: Tensor) => Tensor {
  return named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, minUnits, true);
    return tf.tidy(() => withNaNLabels(yTrue, krPerSample(yTrue, yPred), true));
  }, context);
}
