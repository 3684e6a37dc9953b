/** Model helpers: deterministic random weights and a save/load round trip in memory. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {normal, rng} from './prng.js';

/** Sets every weight of `model` to `scale` times standard normal samples from `seed`. */
export function setRandomWeights(model: tfl.LayersModel, seed: number, scale = 1): void {
  const r = rng(seed);
  const weights = model.getWeights().map((w) => tf.tensor(
    Float32Array.from({length: w.size}, () => scale * normal(r)), w.shape, 'float32'));
  model.setWeights(weights);
  tf.dispose(weights);
}

/** The artifacts `model.save` writes, kept in memory. */
export async function saveToMemory(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return saved!;
}

/** Saves `model` in memory and loads it back (through the class registry, as a user would). */
export async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
}
