/**
 * deel-lip's `WeightClipConstraint` and `AutoWeightClipConstraint` (`deel/lip/constraints.py`):
 * weight clipping, the first Lipschitz-constraining method of Wasserstein GANs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkNonNegative, checkPositive} from '@deepspline/core/internal';
import {CONSTRAINT_BASE} from '@deepspline/layers/internal';

/** Arguments of {@link weightClipConstraint}. */
export interface WeightClipConstraintArgs {
  /**
   * Every weight is clipped to `[-c, c]` (finite, >= 0).
   * @defaultValue 2 (deel-lip's)
   */
  c?: number;
}

/** Arguments of {@link autoWeightClipConstraint}. */
export interface AutoWeightClipConstraintArgs {
  /**
   * The clip is `c = 1 / (sqrt(size) * scale)` for a kernel of `size` weights (`scale`
   * finite, > 0).
   * @defaultValue 1
   */
  scale?: number;
}

/** A weight constraint `clip(w, -c, c)` (see {@link weightClipConstraint}). */
export class WeightClipConstraint extends CONSTRAINT_BASE {
  /** Class name used for serialization. */
  static className = 'WeightClipConstraint';
  /** The clip value. */
  readonly c: number;

  /** See {@link weightClipConstraint}. */
  constructor(args?: WeightClipConstraintArgs) {
    super();
    const context = 'weightClipConstraint';
    this.c = checkNonNegative('c', checkArgsObject(args ?? {}, context, 'c').c ?? 2, context);
  }

  /** The clipped kernel (a new tensor). */
  apply(w: Tensor): Tensor {
    return tf.clipByValue(w, -this.c, this.c);
  }

  /** The config (`c`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {c: this.c};
  }
}

tf.serialization.registerClass(WeightClipConstraint);

/** A weight constraint `clip(w, -c, c)` with `c = 1 / (sqrt(size) scale)` (see {@link autoWeightClipConstraint}). */
export class AutoWeightClipConstraint extends CONSTRAINT_BASE {
  /** Class name used for serialization. */
  static className = 'AutoWeightClipConstraint';
  /** The clip is `1 / (sqrt(size) * scale)`. */
  readonly scale: number;

  /** See {@link autoWeightClipConstraint}. */
  constructor(args?: AutoWeightClipConstraintArgs) {
    super();
    const context = 'autoWeightClipConstraint';
    this.scale = checkPositive('scale', checkArgsObject(args ?? {}, context, 'scale').scale ?? 1, context);
  }

  /** The clipped kernel (a new tensor). */
  apply(w: Tensor): Tensor {
    const c = 1 / (Math.sqrt(w.size) * this.scale);
    return tf.clipByValue(w, -c, c);
  }

  /** The config (`scale`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {scale: this.scale};
  }
}

tf.serialization.registerClass(AutoWeightClipConstraint);

/**
 * deel-lip's `WeightClipConstraint`: clips every weight to `[-c, c]`, so a dense kernel
 * `[in, out]` has spectral norm at most `c sqrt(in out)` (its Frobenius norm). Applied after
 * every batch by `constraintCallback()` of `@deepspline/layers`.
 *
 * @example
 * ```ts
 * const layer = tf.layers.dense({units: 8, kernelConstraint: weightClipConstraint({c: 0.01})});
 * ```
 */
export function weightClipConstraint(args?: WeightClipConstraintArgs): WeightClipConstraint {
  return new WeightClipConstraint(args);
}

/**
 * deel-lip's `AutoWeightClipConstraint`: clips every weight to `[-c, c]` with
 * `c = 1 / (sqrt(size) * scale)`, so the kernel's Frobenius norm, hence its spectral norm, is
 * at most `1 / scale`. Applied after every batch by `constraintCallback()` of
 * `@deepspline/layers`.
 *
 * @example
 * ```ts
 * const layer = tf.layers.dense({units: 8, kernelConstraint: autoWeightClipConstraint()});
 * ```
 */
export function autoWeightClipConstraint(args?: AutoWeightClipConstraintArgs): AutoWeightClipConstraint {
  return new AutoWeightClipConstraint(args);
}
