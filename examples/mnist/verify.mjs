#!/usr/bin/env node
/**
 * Re-checks the certificates of a finished run from its saved files alone: reloads every
 * model in DIR/models/<name>/ (model.json + weights.bin), recomputes the clean accuracy, the
 * certified Lipschitz bound of the logits and the certified accuracies on the same images,
 * and compares them with DIR/results.json. Exits 1 when a number differs (beyond one image,
 * or 1e-5 relative on the bound) or a 1-Lipschitz model's bound exceeds 1 + 1e-6.
 *
 * Usage: node examples/mnist/verify.mjs [DIR]        (default: examples/mnist/reference)
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import * as tfl from '@tensorflow/tfjs-layers';
import '@deepspline/layers';
import '@deepspline/lipschitz';
import {parseArgsMessage} from '../../scripts/cli.mjs';
import {fileLoadHandler} from '../shared/fs_io.mjs';
import {setupWasm} from './lib/backend.mjs';
import {mnistSplit} from './lib/data.mjs';
import {isLipschitz} from './lib/models.mjs';
import {certify} from './lib/certify.mjs';
import {toTensors} from './lib/train.mjs';

const USAGE = 'Usage: node examples/mnist/verify.mjs [DIR]   (DIR holds results.json and models/; ' +
  'default: examples/mnist/reference)';
let args;
try {
  args = parseArgs({strict: true, allowPositionals: true, options: {help: {type: 'boolean', short: 'h'}}});
} catch (e) {
  console.error(`error: ${parseArgsMessage(e)}\n${USAGE}`);
  process.exit(2);
}
if (args.values.help || args.positionals.length > 1) {
  console.log(USAGE);
  process.exit(args.positionals.length > 1 ? 2 : 0);
}
const dir = resolve(args.positionals[0] ?? join(dirname(fileURLToPath(import.meta.url)), 'reference'));
const resultsFile = join(dir, 'results.json');
if (!existsSync(resultsFile)) {
  console.error(`error: ${resultsFile} does not exist; expected the output folder of examples/mnist/index.mjs`);
  process.exit(2);
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
await setupWasm();

const {train, test} = mnistSplit();
// The evaluation images of the run: the test set, or the holdout (the last training images).
const n = results.evalSize;
const images = results.evalSet === 'holdout' ?
  {x: train.x.subarray((train.n - n) * 784), labels: train.labels.subarray(train.n - n), n} : test;
if (images.n !== n) throw new Error(`results.json says ${n} evaluation images; the split has ${images.n}`);
const evalT = toTensors(images);

const LIMIT = 1 + 1e-6;
let failures = 0;
console.log(`Re-checking ${results.models.length} models in ${dir} on ${n} ${results.evalSet} images (l2)\n`);
for (const row of results.models) {
  const path = join(dir, 'models', row.model, 'model.json');
  if (!existsSync(path)) {
    console.log(`${row.model}: FAIL: ${path} is missing (was the run made with --no-save?)`);
    ++failures;
    continue;
  }
  const model = await tfl.loadLayersModel(fileLoadHandler(path));
  const c = certify(model, evalT, results.epsilons);
  model.dispose();
  const problems = [];
  const close = (a, b) => Math.abs(a - b) <= 1 / n + 1e-12;
  if (!close(c.cleanAccuracy, row.cleanAccuracy)) problems.push(`clean ${c.cleanAccuracy} vs ${row.cleanAccuracy}`);
  if (!(Math.abs(c.bound - row.lipschitzBound) <= 1e-5 * row.lipschitzBound)) {
    problems.push(`bound ${c.bound} vs ${row.lipschitzBound}`);
  }
  if (isLipschitz(row.model) && !(c.bound <= LIMIT)) problems.push(`bound ${c.bound} > ${LIMIT}`);
  for (const e of results.epsilons) {
    const k = String(e);
    if (!close(c.certified[k], row.certified[k])) problems.push(`certified@${k} ${c.certified[k]} vs ${row.certified[k]}`);
  }
  const cert = results.epsilons.map((e) => `${e}: ${(100 * c.certified[String(e)]).toFixed(2)}%`).join(', ');
  console.log(`${row.model.padEnd(15)} ${problems.length ? 'FAIL' : 'ok  '} clean ${(100 * c.cleanAccuracy).toFixed(2)}%, ` +
    `L ${c.bound.toPrecision(10)}, certified ${cert}` + (problems.length ? `\n  ${problems.join('\n  ')}` : ''));
  if (problems.length) ++failures;
}
evalT.x.dispose();
evalT.y.dispose();
console.log(failures ? `\n${failures} model(s) FAILED` : '\nEvery certificate re-checked: the saved models give the numbers of results.json.');
process.exit(failures ? 1 : 0);
