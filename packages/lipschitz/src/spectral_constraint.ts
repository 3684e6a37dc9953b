/**
 * deel-lip's `SpectralConstraint` (`deel/lip/constraints.py`): a weight constraint that maps a
 * kernel, seen as the matrix `[fanIn, units]`, to `kCoefLip` times a matrix with every
 * singular value at most 1 and, after Björck iterations, close to 1.
 */
import {NonFiniteError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkInteger, checkPositive, describe} from '@deepspline/core/internal';
import {matrixNorm} from './matrix_norm.js';
import {CONSTRAINT_BASE} from '@deepspline/layers/internal';
import {bjorck} from './normalizers.js';
import {DEFAULT_BJORCK_STEPS} from './spectral_args.js';

/** Arguments of {@link spectralConstraint} (and of {@link spectralInitializer}'s normalization). */
export interface SpectralConstraintArgs {
  /**
   * The target spectral norm `> 0` (finite) of the kernel matrix.
   * @defaultValue 1
   */
  kCoefLip?: number;
  /**
   * Björck iterations (`W <- W (3/2 I - 1/2 W^T W)`, deel-lip's `beta_bjorck = 0.5`) after the
   * division by the spectral norm, an integer >= 0; 0 is spectral normalization only
   * (deel-lip's `eps_bjorck=None`).
   * @defaultValue 15
   */
  bjorckSteps?: number;
}

/** The checked arguments of {@link SpectralConstraintArgs}. */
export function resolveSpectralArgs(args: unknown, context: string): {kCoefLip: number, bjorckSteps: number} {
  const a = checkArgsObject(args ?? {}, context, 'kCoefLip, bjorckSteps');
  return {
    kCoefLip: checkPositive('kCoefLip', a.kCoefLip ?? 1, context),
    bjorckSteps: checkInteger('bjorckSteps', a.bjorckSteps ?? DEFAULT_BJORCK_STEPS, 0, context),
  };
}

/**
 * `kCoefLip * bjorck(W / sigma)` for the kernel `w` seen as `[fanIn, units]` (all axes but the
 * last flattened), with `sigma` a certified upper bound of its spectral norm ({@link matrixNorm},
 * float64): the normalized matrix has every singular value <= 1 (up to float32 rounding), and
 * Björck's map `s -> s (3 - s^2) / 2` keeps them in [0, 1] while pushing them to 1. A zero
 * kernel is returned unchanged. Reads the kernel (`dataSync`).
 */
export function orthonormalizedKernel(w: Tensor, kCoefLip: number, bjorckSteps: number, context: string): Tensor {
  const units = w.shape[w.rank - 1]!;
  const rows = w.size / units;
  const matrix = tf.reshape(w, [rows, units]) as Tensor2D;
  try {
    const sigma = matrixNorm(matrix.dataSync(), rows, units, 2);
    if (!Number.isFinite(sigma)) {
      throw new NonFiniteError(`${context}: the kernel's spectral norm is ${describe(sigma)}; are its weights NaN or Infinite?`);
    }
    if (sigma === 0) return tf.clone(w);
    return tf.tidy(() => tf.reshape(tf.mul(bjorck(tf.div(matrix, sigma) as Tensor2D, bjorckSteps), kCoefLip), w.shape));
  } finally {
    matrix.dispose();
  }
}

/**
 * A weight constraint that makes the kernel matrix `kCoefLip`-Lipschitz and, with Björck
 * iterations, orthonormal times `kCoefLip` (see {@link spectralConstraint}).
 */
export class SpectralConstraint extends CONSTRAINT_BASE {
  /** Class name used for serialization. */
  static className = 'SpectralConstraint';
  /** The target spectral norm. */
  readonly kCoefLip: number;
  /** Björck iterations after the spectral normalization. */
  readonly bjorckSteps: number;

  /** See {@link spectralConstraint}. */
  constructor(args?: SpectralConstraintArgs) {
    super();
    ({kCoefLip: this.kCoefLip, bjorckSteps: this.bjorckSteps} = resolveSpectralArgs(args, 'spectralConstraint'));
  }

  /** The constrained kernel (a new tensor). */
  apply(w: Tensor): Tensor {
    return orthonormalizedKernel(w, this.kCoefLip, this.bjorckSteps, 'spectralConstraint');
  }

  /** The config (`k_coef_lip`, `bjorck_steps` when saved). */
  override getConfig(): tf.serialization.ConfigDict {
    return {kCoefLip: this.kCoefLip, bjorckSteps: this.bjorckSteps};
  }
}

tf.serialization.registerClass(SpectralConstraint);

/**
 * deel-lip's `SpectralConstraint`: a constraint for `kernelConstraint` that divides the kernel
 * (as the matrix `[fanIn, units]`) by a certified upper bound of its spectral norm, then runs
 * `bjorckSteps` Björck iterations and multiplies by `kCoefLip`. Every singular value of the
 * result is at most `kCoefLip` (the bound deel-lip's power-iteration estimate plus `eps` aims
 * at); after enough steps all are close to it.
 *
 * tfjs 4.22's `fit` does not apply layer constraints (its optimizers assign the variables
 * directly; tfjs-layers applies a constraint only in `LayerVariable.write`, e.g.
 * `setWeights`): add `constraintCallback()` of `@deepspline/layers` to `fit`'s callbacks, which
 * applies them after every batch as Keras does. For a convolution's kernel this bounds the
 * reshaped matrix, not the convolution (whose norm can be up to `sqrt(kh kw)` times larger):
 * use `spectralConv2d` for a certified convolution.
 *
 * @example
 * ```ts
 * const layer = tf.layers.dense({units: 16, kernelConstraint: spectralConstraint({kCoefLip: 1})});
 * await model.fit(x, y, {callbacks: [constraintCallback()]});
 * ```
 */
export function spectralConstraint(args?: SpectralConstraintArgs): SpectralConstraint {
  return new SpectralConstraint(args);
}
