/**
 * Weight constraints during `fit`. tfjs's optimizers update variables directly, so the
 * `constraint` of a layer weight is never applied by `model.fit` (tfjs-layers applies it
 * only in `LayerVariable.write`). This module applies them after every batch.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type {Logs} from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import type {Constraint} from './tfjs_internals.js';

/** The parts of a tfjs-layers `LayerVariable` that {@link applyConstraints} uses. */
export interface ConstrainedVariable {
  /** The weight's constraint, if any. */
  constraint?: Constraint | null;
  /** The current value. */
  read(): tf.Tensor;
  /** Assigns a new value (tfjs-layers applies the constraint here too). */
  write(value: tf.Tensor): unknown;
}

/** Anything with layers: a `LayersModel`, `Sequential` or a container layer. */
export interface HasWeights {
  /** Every weight of the model or layer (tfjs-layers `LayerVariable`s). */
  weights: ConstrainedVariable[] | unknown[];
}

/** Constraints registered by {@link deferConstraint}, by variable. */
const DEFERRED = new WeakMap<object, Constraint>();

/**
 * Gives `variable` a constraint that only {@link applyConstraints} (and so
 * {@link constraintCallback}) applies. tfjs-layers applies a variable's own `constraint` on
 * every `write`, which includes `setWeights` and loading a saved model: a constraint that is
 * not exactly idempotent (`maxNorm`, `unitNorm` divide by `norm + epsilon`) would then change
 * the loaded weights. The layers of this package keep their constraints here instead.
 */
export function deferConstraint(variable: object, constraint: Constraint): void {
  DEFERRED.set(variable, constraint);
}

/**
 * Projects every weight of `model` that has a constraint (on any layer, ours or tfjs's) onto
 * its constraint. Returns the number of weights projected.
 */
export function applyConstraints(model: HasWeights): number {
  let count = 0;
  for (const w of model.weights as ConstrainedVariable[]) {
    const constraint = w.constraint ?? DEFERRED.get(w);
    if (constraint == null) continue;
    const projected = tf.tidy(() => constraint.apply(w.read()));
    w.write(projected);  // a new tensor: write assigns it (and re-applies the constraint)
    projected.dispose();
    ++count;
  }
  return count;
}

/**
 * A callback that applies every weight constraint of the model after each training batch,
 * which tfjs's `fit` does not do by itself.
 *
 * @example
 * ```ts
 * await model.fit(xs, ys, {epochs: 5, callbacks: [constraintCallback()]});
 * ```
 */
export class ConstraintCallback extends tfl.Callback {
  override async onBatchEnd(_batch: number, _logs?: Logs): Promise<void> {
    if (this.model != null) applyConstraints(this.model as unknown as HasWeights);
  }
}

/** Creates a {@link ConstraintCallback}. */
export function constraintCallback(): ConstraintCallback {
  return new ConstraintCallback();
}
