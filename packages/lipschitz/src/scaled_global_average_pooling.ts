/**
 * `ScaledGlobalAveragePooling2D` (deel-lip's): the mean of every channel times
 * `lipschitz * sqrt(rows cols)`, a `lipschitz`-Lipschitz (l2) global pooling.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {argsObject, channelsLastArg, firstInput, imageShape, lipschitzArg, roundedUp} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';

/** Arguments of {@link scaledGlobalAveragePooling2d} (and {@link scaledGlobalL2NormPooling2d}). */
export interface ScaledGlobalPooling2DArgs extends LayerArgs {
  /** Only `'channelsLast'`. @defaultValue 'channelsLast' */
  dataFormat?: 'channelsLast';
  /** The layer's Lipschitz constant (l2) by construction. @defaultValue 1 */
  lipschitz?: number;
}

/** `[batch, channels]` from a 4-D channels-last input shape. */
export function globalPooledShape(inputShape: unknown, context: string): (number | null)[] {
  const shape = imageShape(inputShape, context);
  return [shape[0] ?? null, shape[3] ?? null];
}

const CONTEXT = 'scaledGlobalAveragePooling2d';

/**
 * Global average pooling times `lipschitz * sqrt(rows cols)` (deel-lip's
 * `ScaledGlobalAveragePooling2D`): every channel becomes `lipschitz / sqrt(n)` times its sum
 * over the `n = rows cols` positions, a linear map of l2 norm exactly `lipschitz`. The rows and
 * columns must be known when the layer is built (the scale depends on them).
 */
export class ScaledGlobalAveragePooling2D extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'ScaledGlobalAveragePooling2D';
  /** The layer's Lipschitz constant (l2) by construction. */
  readonly lipschitz: number;
  private positions: number | null = null;

  constructor(args: ScaledGlobalPooling2DArgs = {}) {
    super(argsObject<ScaledGlobalPooling2DArgs>(args, CONTEXT));
    channelsLastArg(args.dataFormat, CONTEXT);
    this.lipschitz = lipschitzArg(args.lipschitz, CONTEXT);
    this.inputSpec = [{ndim: 4}];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = imageShape(inputShape, `${CONTEXT} '${this.name}'`);
    const [h, w] = [shape[1], shape[2]];
    if (h == null || w == null || !(h > 0) || !(w > 0)) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': the rows and columns of the input must be known (the scale ` +
        `lipschitz * sqrt(rows cols) depends on them); got input shape ${describe(shape)}`);
    }
    this.positions = h * w;
    this.built = true;
  }

  /** The number of positions `rows cols` the mean is over (the layer must be built). */
  get size(): number {
    if (this.positions == null) throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an input first`);
    return this.positions;
  }

  /** The float32 factor of the mean, `lipschitz * sqrt(rows cols)` (the layer must be built). */
  get scale(): number {
    return Math.fround(this.lipschitz * Math.sqrt(this.size));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return globalPooledShape(inputShape, `${CONTEXT} '${this.name}'`);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.mul(tf.mean(firstInput(inputs), [1, 2]), this.scale));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), dataFormat: 'channelsLast', lipschitz: this.lipschitz};
  }
}
tf.serialization.registerClass(ScaledGlobalAveragePooling2D);

// Each channel's output is scale / n times the sum of its n inputs, the channels disjoint:
// l2 norm scale / sqrt(n), l1 scale / n, l-inf scale; exact for the float32 scale, rounded up.
registerLipschitzRule(ScaledGlobalAveragePooling2D.className, (layer, context) => {
  const l = layer as ScaledGlobalAveragePooling2D;
  const n = l.size;
  const p = context.norm;
  return roundedUp(p === Infinity ? l.scale : p === 1 ? l.scale / n : l.scale / Math.sqrt(n));
});

/** As standard layers: `GlobalAveragePooling2D` then `Rescaling` by the same float32 scale. */
function exportScaledGlobalAverage(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const l = layer as ScaledGlobalAveragePooling2D;
  const pooled = tfl.layers.globalAveragePooling2d({name: context.uniqueName(`${l.name}_pool`)})
    .apply(inputs[0]!) as tfl.SymbolicTensor;
  return tfl.layers.rescaling({scale: l.scale, name: context.uniqueName(l.name)}).apply(pooled) as tfl.SymbolicTensor;
}
registerStandardExport(ScaledGlobalAveragePooling2D.className, exportScaledGlobalAverage);

/**
 * Creates a {@link ScaledGlobalAveragePooling2D} layer (`dataFormat`, `lipschitz`).
 *
 * @example
 * ```ts
 * const pool = scaledGlobalAveragePooling2d();   // [b, h, w, c] -> [b, c], 1-Lipschitz
 * ```
 */
export function scaledGlobalAveragePooling2d(args: ScaledGlobalPooling2DArgs = {}): ScaledGlobalAveragePooling2D {
  return new ScaledGlobalAveragePooling2D(args);
}
