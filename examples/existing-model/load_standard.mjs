#!/usr/bin/env node
/**
 * Loads a model exported by `exportToStandardLayers` with plain TensorFlow.js (tfjs-core, the
 * cpu backend and tfjs-layers; nothing of @deepspline) and writes its predictions:
 *
 *   node examples/existing-model/load_standard.mjs MODEL_DIR INPUT_JSON OUTPUT_JSON
 *
 * INPUT_JSON holds `{shape, data}`; OUTPUT_JSON receives `{shape, data, classes}`.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {parseArgsMessage} from '../../scripts/cli.mjs';
import {fileLoadHandler} from '../shared/fs_io.mjs';

const USAGE = 'usage: node load_standard.mjs MODEL_DIR INPUT_JSON OUTPUT_JSON';
let positionals;
try {
  ({positionals} = parseArgs({strict: true, allowPositionals: true, options: {}}));
} catch (e) {
  console.error(`error: ${parseArgsMessage(e)}\n${USAGE}`);
  process.exit(2);
}
const [dir, inputPath, outputPath] = positionals;
if (outputPath == null) {
  console.error(USAGE);
  process.exit(2);
}
await tf.setBackend('cpu');
const model = await tfl.loadLayersModel(fileLoadHandler(join(dir, 'model.json')));
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const y = model.predict(tf.tensor(input.data, input.shape));
writeFileSync(outputPath, JSON.stringify({shape: y.shape, data: Array.from(y.dataSync()),
  classes: [...new Set(model.layers.map((l) => l.getClassName()))]}));
