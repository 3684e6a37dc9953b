/**
 * A small Node file-system IOHandler for tfjs models without `@tensorflow/tfjs-node`: saves a
 * model as `model.json` + `weights.bin` (the standard tfjs layers format, the same files
 * `tfjs-node`'s `file://` handler and the browser downloads handler write) and loads it back.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A save handler for `model.save(...)` writing `<dir>/model.json` and `<dir>/weights.bin`.
 * @param {string} dir folder, created if missing
 * @returns {tf.io.IOHandler}
 */
export function fileSaveHandler(dir) {
  return tf.io.withSaveHandler(async (artifacts) => {
    mkdirSync(dir, {recursive: true});
    const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(weightData));
    const modelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs ?? []}],
      ...(artifacts.trainingConfig != null ? {trainingConfig: artifacts.trainingConfig} : {}),
      ...(artifacts.userDefinedMetadata != null ? {userDefinedMetadata: artifacts.userDefinedMetadata} : {}),
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJSON));
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  });
}

/**
 * A load handler for `tf.loadLayersModel(...)` reading a `model.json` and the weight files
 * its manifest names (relative to the JSON file).
 * @param {string} modelJsonPath path of model.json
 * @returns {tf.io.IOHandler}
 */
export function fileLoadHandler(modelJsonPath) {
  const path = resolve(modelJsonPath);
  return {
    load: async () => {
      let modelJSON;
      try {
        modelJSON = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        throw new Error(`cannot read the model JSON ${path}: ${e.message}`);
      }
      if (modelJSON == null || modelJSON.modelTopology == null) {
        throw new Error(`${path} is not a tfjs layers model JSON (no modelTopology)`);
      }
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) => group.paths.map((p) => {
          const b = readFileSync(join(dirname(path), p));
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        }));
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}
