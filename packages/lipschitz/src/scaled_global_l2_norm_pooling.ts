/**
 * `ScaledGlobalL2NormPooling2D` (deel-lip's): the l2 norm of every channel over all positions,
 * a 1-Lipschitz (l2), gradient-norm-preserving global pooling.
 */
import {UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
import {argsObject, channelsLastArg, epsGradSqrtArg, firstInput, lipschitzArg, roundedUp,
  sqrtWithFiniteGradient} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';
import {globalPooledShape} from './scaled_global_average_pooling.js';
import type {ScaledGlobalPooling2DArgs} from './scaled_global_average_pooling.js';

/** Arguments of {@link scaledGlobalL2NormPooling2d}. */
export interface ScaledGlobalL2NormPooling2DArgs extends ScaledGlobalPooling2DArgs {
  /**
   * The square root's gradient is `dy / (2 (sqrt(s) + epsGradSqrt))`, finite on an all-zero
   * channel (the value is the exact square root). A finite number >= 0.
   * @defaultValue 1e-6
   */
  epsGradSqrt?: number;
}

const CONTEXT = 'scaledGlobalL2NormPooling2d';

/**
 * Global l2-norm pooling (deel-lip's `ScaledGlobalL2NormPooling2D`): every channel becomes
 * `lipschitz * sqrt(sum of its squares over all positions)`, `[b, h, w, c] -> [b, c]`.
 * `lipschitz`-Lipschitz in l2 (the reverse triangle inequality per channel, the channels
 * disjoint). Nonlinear: `exportToStandardLayers` cannot write it (no square-root layer) and
 * throws naming it.
 */
export class ScaledGlobalL2NormPooling2D extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'ScaledGlobalL2NormPooling2D';
  /** The layer's Lipschitz constant (l2) by construction. */
  readonly lipschitz: number;
  /** The square root's gradient offset. */
  readonly epsGradSqrt: number;
  /** The float32 factor of the norms, `lipschitz` rounded to float32. */
  readonly scale: number;

  constructor(args: ScaledGlobalL2NormPooling2DArgs = {}) {
    super(argsObject<ScaledGlobalL2NormPooling2DArgs>(args, CONTEXT));
    channelsLastArg(args.dataFormat, CONTEXT);
    this.lipschitz = lipschitzArg(args.lipschitz, CONTEXT);
    this.epsGradSqrt = epsGradSqrtArg(args.epsGradSqrt, CONTEXT);
    this.scale = Math.fround(this.lipschitz);
    this.inputSpec = [{ndim: 4}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return globalPooledShape(inputShape, `${CONTEXT} '${this.name}'`);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.mul(sqrtWithFiniteGradient(tf.sum(tf.square(firstInput(inputs)), [1, 2]), this.epsGradSqrt),
      this.scale));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), dataFormat: 'channelsLast', lipschitz: this.lipschitz, epsGradSqrt: this.epsGradSqrt};
  }
}
tf.serialization.registerClass(ScaledGlobalL2NormPooling2D);

// Output c = scale ||x_c||_2 over the n positions of channel c. | ||a|| - ||b|| | <= ||a - b||_2
// <= ||a - b||_1, and <= sqrt(n) ||a - b||_inf: factors scale (l2, l1; attained at x = t e_i,
// y = 0) and scale sqrt(n) (l-inf; attained at a constant channel), rounded up.
registerLipschitzRule(ScaledGlobalL2NormPooling2D.className, (layer, context) => {
  const l = layer as ScaledGlobalL2NormPooling2D;
  if (context.norm !== Infinity) return roundedUp(l.scale);
  const [h, w] = context.inputShape.slice(1, 3);
  if (h == null || w == null) {
    throw new UnsupportedError(`lipschitzBound: layer '${layer.name}' (ScaledGlobalL2NormPooling2D) needs known rows and ` +
      `columns for its l-inf factor lipschitz * sqrt(rows cols), got input shape ${describe(context.inputShape)}`);
  }
  return roundedUp(l.scale * Math.sqrt(h * w));
});

/**
 * Creates a {@link ScaledGlobalL2NormPooling2D} layer (`dataFormat`, `lipschitz`, `epsGradSqrt`).
 *
 * @example
 * ```ts
 * const pool = scaledGlobalL2NormPooling2d();   // [b, h, w, c] -> [b, c]: each channel's l2 norm
 * ```
 */
export function scaledGlobalL2NormPooling2d(args: ScaledGlobalL2NormPooling2DArgs = {}): ScaledGlobalL2NormPooling2D {
  return new ScaledGlobalL2NormPooling2D(args);
}
