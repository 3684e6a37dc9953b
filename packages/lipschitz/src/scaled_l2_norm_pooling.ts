/**
 * `ScaledL2NormPooling2D` (deel-lip's): the l2 norm of every non-overlapping window, a
 * 1-Lipschitz (l2), gradient-norm-preserving pooling (Boureau, Ponce, LeCun 2010).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import {argsObject, epsGradSqrtArg, firstInput, roundedUp, sqrtWithFiniteGradient} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';
import {pooledShape, poolingArgs} from './scaled_average_pooling.js';
import type {ScaledPooling2DArgs} from './scaled_average_pooling.js';

/** Arguments of {@link scaledL2NormPooling2d}: the pooling arguments plus `epsGradSqrt`. */
export interface ScaledL2NormPooling2DArgs extends ScaledPooling2DArgs {
  /**
   * The square root's gradient is `dy / (2 (sqrt(s) + epsGradSqrt))`, finite on an all-zero
   * window (the value is the exact square root). A finite number >= 0.
   * @defaultValue 1e-6
   */
  epsGradSqrt?: number;
}

const CONTEXT = 'scaledL2NormPooling2d';

/**
 * L2-norm pooling (deel-lip's `ScaledL2NormPooling2D`): every output is `lipschitz` times the
 * l2 norm of its window, `sqrt(mean(x^2)) * lipschitz * sqrt(ph pw)` over non-overlapping
 * windows (strides equal to the pool size, padding `'valid'`). `lipschitz`-Lipschitz in l2
 * (`| ||a|| - ||b|| | <= ||a - b||` per window, the windows disjoint) and, unlike average
 * pooling, gradient-norm preserving. Nonlinear: `exportToStandardLayers` cannot write it
 * (Keras and tfjs-layers have no square-root layer) and throws naming it.
 */
export class ScaledL2NormPooling2D extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'ScaledL2NormPooling2D';
  /** The window `[rows, cols]` (also the strides). */
  readonly poolSize: [number, number];
  /** The layer's Lipschitz constant (l2) by construction. */
  readonly lipschitz: number;
  /** The square root's gradient offset. */
  readonly epsGradSqrt: number;
  /** The float32 factor of `sqrt(mean(x^2))`: `lipschitz * sqrt(ph pw)`. */
  readonly scale: number;

  constructor(args: ScaledL2NormPooling2DArgs = {}) {
    super(argsObject<ScaledL2NormPooling2DArgs>(args, CONTEXT));
    ({poolSize: this.poolSize, lipschitz: this.lipschitz} = poolingArgs(args, CONTEXT));
    this.epsGradSqrt = epsGradSqrtArg(args.epsGradSqrt, CONTEXT);
    this.scale = Math.fround(this.lipschitz * Math.sqrt(this.poolSize[0] * this.poolSize[1]));
    this.inputSpec = [{ndim: 4}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return pooledShape(inputShape, this.poolSize, `${CONTEXT} '${this.name}'`);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs) as Tensor4D;
      const meanSquare = tf.avgPool(tf.square(x), this.poolSize, this.poolSize, 'valid');
      return tf.mul(sqrtWithFiniteGradient(meanSquare, this.epsGradSqrt), this.scale);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, strides: this.poolSize, padding: 'valid',
      dataFormat: 'channelsLast', lipschitz: this.lipschitz, epsGradSqrt: this.epsGradSqrt};
  }
}
tf.serialization.registerClass(ScaledL2NormPooling2D);

// Output o = (scale / sqrt(n)) ||x_W||_2 over disjoint windows W of n inputs. Per window
// | ||a|| - ||b|| | <= ||a - b||_2, which is <= ||a - b||_1 and <= sqrt(n) ||a - b||_inf; summing
// (l2: squares, l1: values) over the disjoint windows, or taking the max (l-inf), gives the
// factors scale / sqrt(n) (l2 and l1) and scale (l-inf), attained at x = t e_i, y = 0 (l2, l1)
// and at a constant window (l-inf). Exact for the float32 `scale`, rounded up.
registerLipschitzRule(ScaledL2NormPooling2D.className, (layer, context) => {
  const l = layer as ScaledL2NormPooling2D;
  const n = l.poolSize[0] * l.poolSize[1];
  return roundedUp(context.norm === Infinity ? l.scale : l.scale / Math.sqrt(n));
});

/**
 * Creates a {@link ScaledL2NormPooling2D} layer: `tf.layers.averagePooling2d` arguments
 * (strides equal to the pool size, padding `'valid'`) plus `lipschitz` and `epsGradSqrt`.
 *
 * @example
 * ```ts
 * const pool = scaledL2NormPooling2d({poolSize: 2});   // the l2 norm of each 2x2 window
 * ```
 */
export function scaledL2NormPooling2d(args: ScaledL2NormPooling2DArgs = {}): ScaledL2NormPooling2D {
  return new ScaledL2NormPooling2D(args);
}
