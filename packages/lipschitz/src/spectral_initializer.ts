/**
 * deel-lip's `SpectralInitializer` (`deel/lip/initializers.py`): a base initializer's kernel
 * made orthonormal (times `kCoefLip`) by the normalization of {@link SpectralConstraint}.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {DataType, Tensor} from '@tensorflow/tfjs-core';
import type {Initializer} from '@tensorflow/tfjs-layers/dist/initializers';
import {describe} from '@deepspline/core/internal';
import {INITIALIZER_BASE, registeredClasses} from '@deepspline/layers/internal';
import {orthonormalizedKernel, resolveSpectralArgs} from './spectral_constraint.js';
import type {SpectralConstraintArgs} from './spectral_constraint.js';

const InitializerBase = INITIALIZER_BASE;

/** Arguments of {@link spectralInitializer}. */
export interface SpectralInitializerArgs extends SpectralConstraintArgs {
  /**
   * The initializer whose kernel is normalized (a tfjs initializer instance, e.g.
   * `tf.initializers.orthogonal({})`).
   * @defaultValue `tf.initializers.glorotUniform({})` (deel-lip's is `'orthogonal'`; tfjs's
   * orthogonal is a slow QR that warns beyond 2000 weights, and Björck orthonormalizes anyway)
   */
  baseInitializer?: Initializer;
}

/** The kernel of a base initializer, orthonormalized (see {@link spectralInitializer}). */
export class SpectralInitializer extends InitializerBase {
  /** Class name used for serialization. */
  static className = 'SpectralInitializer';
  /** The target spectral norm. */
  readonly kCoefLip: number;
  /** Björck iterations. */
  readonly bjorckSteps: number;
  /** The initializer whose kernel is normalized. */
  readonly baseInitializer: Initializer;

  /** See {@link spectralInitializer}. */
  constructor(args?: SpectralInitializerArgs) {
    super();
    const context = 'spectralInitializer';
    ({kCoefLip: this.kCoefLip, bjorckSteps: this.bjorckSteps} = resolveSpectralArgs(args, context));
    const base = args?.baseInitializer ?? tfl.initializers.glorotUniform({});
    if (!(base instanceof InitializerBase)) {
      throw new ArgumentError(`${context}: expected baseInitializer to be a tfjs initializer (e.g. ` +
        `tf.initializers.orthogonal({})), got ${describe(base)}`);
    }
    this.baseInitializer = base;
  }

  /** A kernel of `shape` (at least 2-D: `[..., units]`). */
  apply(shape: number[], dtype?: DataType): Tensor {
    if (!Array.isArray(shape) || shape.length < 2) {
      throw new ArgumentError(`spectralInitializer: expected a kernel shape [..., fanIn, units] with at least 2 axes, ` +
        `got ${describe(shape)}`);
    }
    const w = this.baseInitializer.apply(shape, dtype);
    try {
      return orthonormalizedKernel(w, this.kCoefLip, this.bjorckSteps, 'spectralInitializer');
    } finally {
      w.dispose();
    }
  }

  /** The config (`k_coef_lip`, `bjorck_steps`, `base_initializer` as `{className, config}`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {kCoefLip: this.kCoefLip, bjorckSteps: this.bjorckSteps, baseInitializer: {
      className: this.baseInitializer.getClassName(), config: this.baseInitializer.getConfig()}};
  }

  /** Creates an instance from its config (used by deserialization). */
  static override fromConfig<T extends tf.serialization.Serializable>(
      cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const base = config.baseInitializer as {className: string, config: tf.serialization.ConfigDict} | undefined;
    let baseInitializer: Initializer | undefined;
    if (base != null) {
      const entry = registeredClasses()[base.className];
      if (entry == null) throw new ArgumentError(`spectralInitializer: unknown base initializer class ${describe(base.className)}`);
      baseInitializer = entry[1](entry[0], base.config) as unknown as Initializer;
    }
    return new cls({...config, baseInitializer});
  }
}

tf.serialization.registerClass(SpectralInitializer);

/**
 * deel-lip's `SpectralInitializer`: draws a kernel from `baseInitializer`, divides it (as the
 * matrix `[fanIn, units]`) by a certified upper bound of its spectral norm and runs
 * `bjorckSteps` Björck iterations, times `kCoefLip`: an orthonormal start for 1-Lipschitz
 * layers (every singular value at most `kCoefLip`, close to it after Björck).
 *
 * @example
 * ```ts
 * const layer = tf.layers.dense({units: 16, kernelInitializer: spectralInitializer()});
 * ```
 */
export function spectralInitializer(args?: SpectralInitializerArgs): SpectralInitializer {
  return new SpectralInitializer(args);
}
