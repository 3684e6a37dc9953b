/** The one walk over a model's layers that recurses into nested models. */
import {ArgumentError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';

/** A layer found in a model, with its path (`outer/inner` inside nested models). */
export interface FoundLayer<T extends tfl.layers.Layer> {
  /** The layer name, prefixed by the names of the nested models it is in. */
  name: string;
  /** The layer. */
  layer: T;
}

/** The layers of `model` for which `test` holds, in model order, nested models included. */
export function findLayers<T extends tfl.layers.Layer>(model: tfl.LayersModel,
    test: (layer: tfl.layers.Layer) => layer is T, prefix = ''): FoundLayer<T>[] {
  const out: FoundLayer<T>[] = [];
  for (const layer of model.layers) {
    if (test(layer)) out.push({name: prefix + layer.name, layer});
    else if (isLayersModel(layer)) out.push(...findLayers(layer, test, `${prefix}${layer.name}/`));
  }
  return out;
}

/**
 * The model a `fit` callback of ours is attached to (`callback.model`), checked: a clear error
 * when it is used outside `fit` or given something else.
 */
export function attachedModel(model: unknown, context: string): tfl.LayersModel {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${context}: expected the callback to be attached to a tfjs-layers model ` +
      `(passed in fit's callbacks), got ${describe(model)}`);
  }
  return model;
}
