/**
 * Type guards for models and spline layers that also work across module copies: a CommonJS
 * and an ESM copy of tfjs-layers (or of this package) loaded side by side defeat
 * `instanceof`, so the shape of the object decides when `instanceof` does not.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation} from './spline_activation.js';

/** Whether `value` is a tfjs-layers model (a `LayersModel` or `Sequential`, from any copy). */
export function isLayersModel(value: unknown): value is tfl.LayersModel {
  if (value instanceof tfl.LayersModel) return true;
  const m = value as {layers?: unknown, getClassName?: unknown, predict?: unknown} | null;
  return m != null && typeof m === 'object' && Array.isArray(m.layers) &&
    typeof m.getClassName === 'function' && typeof m.predict === 'function';
}

/** Whether `layer` is a {@link SplineActivation} layer (from any copy of this package). */
export function isSplineLayer(layer: unknown): layer is SplineActivation {
  if (layer instanceof SplineActivation) return true;
  const l = layer as {getClassName?: unknown, clipSlopes?: unknown} | null;
  return l != null && typeof l === 'object' && typeof l.getClassName === 'function' &&
    (layer as tfl.layers.Layer).getClassName() === SplineActivation.className &&
    typeof l.clipSlopes === 'function';
}
