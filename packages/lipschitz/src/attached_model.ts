/** The model a `fit` callback of ours is attached to. */
import {ArgumentError} from '@deepspline/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';

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
