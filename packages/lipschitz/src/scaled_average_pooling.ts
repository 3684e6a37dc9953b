/**
 * `ScaledAveragePooling2D` (deel-lip's): average pooling over non-overlapping windows, scaled
 * by `lipschitz * sqrt(window size)` so that the layer is `lipschitz`-Lipschitz in l2.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {argsObject, channelsLastArg, firstInput, imageShape, lipschitzArg, poolSizeArg, roundedUp} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';

/** Arguments of {@link scaledAveragePooling2d} (and of {@link scaledL2NormPooling2d}). */
export interface ScaledPooling2DArgs extends LayerArgs {
  /**
   * Window `[rows, cols]` (or one integer for both); the windows do not overlap.
   * @defaultValue [2, 2]
   */
  poolSize?: number | [number, number];
  /** `null` or equal to `poolSize` (deel-lip's restriction: the windows may not overlap). */
  strides?: number | [number, number] | null;
  /** Only `'valid'` (rows and columns beyond the last whole window are dropped). @defaultValue 'valid' */
  padding?: 'valid';
  /** Only `'channelsLast'`. @defaultValue 'channelsLast' */
  dataFormat?: 'channelsLast';
  /** The layer's Lipschitz constant (l2) by construction. @defaultValue 1 */
  lipschitz?: number;
}

/** The pooling arguments of deel-lip's scaled poolings, checked. */
export function poolingArgs(args: ScaledPooling2DArgs, context: string): {poolSize: [number, number], lipschitz: number} {
  const poolSize = poolSizeArg(args.poolSize ?? [2, 2], context);
  if (args.strides != null) {
    const strides = poolSizeArg(args.strides, context, 'strides');
    if (strides[0] !== poolSize[0] || strides[1] !== poolSize[1]) {
      throw new ArgumentError(`${context}: expected strides null or equal to poolSize ${describe(poolSize)} (the windows ` +
        `may not overlap), got ${describe(args.strides)}`);
    }
  }
  if (args.padding != null && args.padding !== 'valid') {
    throw new ArgumentError(`${context}: expected padding 'valid', got ${describe(args.padding)}`);
  }
  channelsLastArg(args.dataFormat, context);
  return {poolSize, lipschitz: lipschitzArg(args.lipschitz, context)};
}

/** The output shape of a pooling over non-overlapping `poolSize` windows, padding 'valid'. */
export function pooledShape(inputShape: unknown, poolSize: [number, number], context: string): (number | null)[] {
  const [b, h, w, c] = imageShape(inputShape, context);
  const out = (d: number | null | undefined, p: number) => (d == null ? null : Math.floor(d / p));
  return [b ?? null, out(h, poolSize[0]), out(w, poolSize[1]), c ?? null];
}

const CONTEXT = 'scaledAveragePooling2d';

/**
 * Average pooling over non-overlapping windows times `lipschitz * sqrt(ph pw)` (deel-lip's
 * `ScaledAveragePooling2D`): each output is `lipschitz / sqrt(ph pw)` times the sum of its
 * window, a linear map of l2 norm exactly `lipschitz` (each input lies in at most one window).
 * Channels-last 4-D inputs.
 */
export class ScaledAveragePooling2D extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'ScaledAveragePooling2D';
  /** The window `[rows, cols]` (also the strides). */
  readonly poolSize: [number, number];
  /** The layer's Lipschitz constant (l2) by construction. */
  readonly lipschitz: number;
  /** The float32 factor the average is multiplied by: `lipschitz * sqrt(ph pw)`. */
  readonly scale: number;

  constructor(args: ScaledPooling2DArgs = {}) {
    super(argsObject<ScaledPooling2DArgs>(args, CONTEXT));
    ({poolSize: this.poolSize, lipschitz: this.lipschitz} = poolingArgs(args, CONTEXT));
    this.scale = Math.fround(this.lipschitz * Math.sqrt(this.poolSize[0] * this.poolSize[1]));
    this.inputSpec = [{ndim: 4}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return pooledShape(inputShape, this.poolSize, `${CONTEXT} '${this.name}'`);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.mul(tf.avgPool(firstInput(inputs) as Tensor4D, this.poolSize, this.poolSize, 'valid'),
      this.scale));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, strides: this.poolSize, padding: 'valid',
      dataFormat: 'channelsLast', lipschitz: this.lipschitz};
  }
}
tf.serialization.registerClass(ScaledAveragePooling2D);

// A linear map whose every output is `scale / n` times the sum of its window of n = ph pw
// inputs, the windows disjoint: its matrix has one non-zero block per output row, so the l2
// norm is `scale / n * sqrt(n)`, the l1 norm (largest column sum) `scale / n` and the l-inf
// norm (largest row sum) `scale`, each exact for the float32 `scale` and rounded up.
registerLipschitzRule(ScaledAveragePooling2D.className, (layer, context) => {
  const l = layer as ScaledAveragePooling2D;
  const n = l.poolSize[0] * l.poolSize[1];
  const p = context.norm;
  return roundedUp(p === Infinity ? l.scale : p === 1 ? l.scale / n : l.scale / Math.sqrt(n));
});

/** As standard layers: `AveragePooling2D` then `Rescaling` by the same float32 scale (the same outputs). */
function exportScaledAveragePooling(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const l = layer as ScaledAveragePooling2D;
  const pooled = tfl.layers.averagePooling2d({poolSize: l.poolSize, strides: l.poolSize, padding: 'valid',
    name: context.uniqueName(`${l.name}_pool`)}).apply(inputs[0]!) as tfl.SymbolicTensor;
  return tfl.layers.rescaling({scale: l.scale, name: context.uniqueName(l.name)}).apply(pooled) as tfl.SymbolicTensor;
}
registerStandardExport(ScaledAveragePooling2D.className, exportScaledAveragePooling);

/**
 * Creates a {@link ScaledAveragePooling2D} layer: `tf.layers.averagePooling2d` arguments
 * (strides equal to the pool size, padding `'valid'`) plus `lipschitz`.
 *
 * @example
 * ```ts
 * const pool = scaledAveragePooling2d({poolSize: 2});   // 1-Lipschitz: 2 x mean of each 2x2 window
 * ```
 */
export function scaledAveragePooling2d(args: ScaledPooling2DArgs = {}): ScaledAveragePooling2D {
  return new ScaledAveragePooling2D(args);
}
