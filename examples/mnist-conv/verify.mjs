#!/usr/bin/env node
/**
 * Re-checks a finished run from its saved files alone: reloads DIR/model (model.json +
 * weights.bin), recomputes the clean accuracy, the certified Lipschitz bound of the logits and
 * the certified accuracies on the same images, and compares them with DIR/results.json. Exits
 * 1 when a number differs (beyond one image, or 1e-5 relative on the bound) or the bound
 * exceeds 1 + 1e-6.
 *
 * Usage: node examples/mnist-conv/verify.mjs [DIR]      (default: examples/mnist-conv/reference)
 */
import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '@deepspline/layers';
import '@deepspline/lipschitz';
import {fileLoadHandler} from '../shared/fs_io.mjs';
import {certify} from '../mnist/lib/certify.mjs';
import {mnistSplit, PIXELS} from './lib/data.mjs';
import {toTensors} from '../mnist/lib/train.mjs';

const dir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'reference'));
await tf.setBackend('cpu');
const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
if (results.evalSet !== 'test') {
  console.error(`error: ${dir} was evaluated on a ${results.evalSet} split; verify re-checks test runs only`);
  process.exit(2);
}
const {test} = mnistSplit();
const n = results.evalSize;
const images = toTensors({x: test.x.subarray(0, n * PIXELS), labels: test.labels.subarray(0, n), n});
const model = await tfl.loadLayersModel(fileLoadHandler(join(dir, 'model', 'model.json')));
const c = certify(model, images, results.epsilons);
const saved = results.model;
const problems = [];
const close = (a, b) => Math.abs(a - b) * n <= 1 + 1e-9;
if (!close(c.cleanAccuracy, saved.cleanAccuracy)) problems.push(`clean accuracy ${c.cleanAccuracy} vs ${saved.cleanAccuracy}`);
if (Math.abs(c.bound - saved.lipschitzBound) > 1e-5 * saved.lipschitzBound) problems.push(`bound ${c.bound} vs ${saved.lipschitzBound}`);
if (c.bound > 1 + 1e-6) problems.push(`bound ${c.bound} > 1`);
for (const e of results.epsilons) {
  if (!close(c.certified[String(e)], saved.certified[String(e)])) {
    problems.push(`certified at ${e}: ${c.certified[String(e)]} vs ${saved.certified[String(e)]}`);
  }
}
model.dispose();
images.x.dispose();
images.y.dispose();
console.log(`${dir}: clean ${(100 * c.cleanAccuracy).toFixed(1)} %, L ${c.bound.toPrecision(7)}, certified ` +
  results.epsilons.map((e) => `${e}: ${(100 * c.certified[String(e)]).toFixed(1)} %`).join(', '));
if (problems.length > 0) {
  console.error(`error: the saved model does not reproduce results.json:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('ok: the saved model reproduces results.json');
