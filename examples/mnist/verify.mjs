#!/usr/bin/env node
/**
 * Re-checks the certificates of a finished run from its saved files alone: reloads every
 * model in DIR/models/<name>/ (model.json + weights.bin), recomputes the clean accuracy, the
 * certified Lipschitz bound of the logits and the certified accuracies on the same digits,
 * and compares them with DIR/results.json; then attacks, with PGD, digits that each
 * 1-Lipschitz model certifies at each radius: a certificate broken by the attack fails. Exits
 * 1 when a number differs (beyond one digit, or 1e-5 relative on the bound), a 1-Lipschitz
 * model's bound exceeds 1 + 1e-6, or a certified digit is broken.
 *
 * Usage: node examples/mnist/verify.mjs [--attack N] [DIR]   (default: examples/mnist/reference)
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@deepspline/layers';
import '@deepspline/lipschitz';
import {parseArgsMessage} from '../../scripts/cli.mjs';
import {fileLoadHandler} from '../shared/fs_io.mjs';
import {pgdAccuracy} from './lib/attack.mjs';
import {setupWasm} from './lib/backend.mjs';
import {mnistSplit, PIXELS} from './lib/data.mjs';
import {isLipschitz} from './lib/models.mjs';
import {certify, logitModel} from './lib/certify.mjs';
import {toTensors} from './lib/train.mjs';

const USAGE = 'Usage: node examples/mnist/verify.mjs [--attack N] [DIR]   (DIR holds results.json and models/; ' +
  'default: examples/mnist/reference; --attack N: PGD on up to N certified digits per model and radius, default 300, 0: none)';
let args;
try {
  args = parseArgs({strict: true, allowPositionals: true, options: {help: {type: 'boolean', short: 'h'}, attack: {type: 'string'}}});
} catch (e) {
  console.error(`error: ${parseArgsMessage(e)}\n${USAGE}`);
  process.exit(2);
}
if (args.values.help || args.positionals.length > 1) {
  console.log(USAGE);
  process.exit(args.positionals.length > 1 ? 2 : 0);
}
const attackCount = args.values.attack === undefined ? 300 : Number(args.values.attack);
if (!Number.isInteger(attackCount) || attackCount < 0) {
  console.error(`error: --attack: expected an integer >= 0, got ${JSON.stringify(args.values.attack)}\n${USAGE}`);
  process.exit(2);
}
const dir = resolve(args.positionals[0] ?? join(dirname(fileURLToPath(import.meta.url)), 'reference'));
const resultsFile = join(dir, 'results.json');
if (!existsSync(resultsFile)) {
  console.error(`error: ${resultsFile} does not exist; expected the output folder of examples/mnist/index.mjs`);
  process.exit(2);
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
await setupWasm();

const split = mnistSplit({validation: results.evalSet === 'validation'});
const n = results.evalSize;
if (!(n <= split.eval.n)) throw new Error(`results.json says ${n} evaluation digits; the ${results.evalSet} set has ${split.eval.n}`);
const images = {x: split.eval.x.subarray(0, n * PIXELS), labels: split.eval.labels.subarray(0, n), n};
const evalT = toTensors(images);

const LIMIT = 1 + 1e-6;
let failures = 0;
console.log(`Re-checking ${results.models.length} models in ${dir} on ${n} ${results.evalSet} digits (l2)` +
  (attackCount ? `; PGD (${results.pgd?.steps ?? 50} steps, ${results.pgd?.restarts || 3} restarts) on up to ${attackCount} ` +
    'certified digits per 1-Lipschitz model and radius' : '') + '\n');
for (const row of results.models) {
  const path = join(dir, 'models', row.model, 'model.json');
  if (!existsSync(path)) {
    console.log(`${row.model}: FAIL: ${path} is missing (was the run made with --no-save?)`);
    ++failures;
    continue;
  }
  const model = await tfl.loadLayersModel(fileLoadHandler(path));
  const c = certify(model, evalT, results.epsilons);
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
  let attacked = '';
  if (attackCount > 0 && isLipschitz(row.model)) {
    const lm = logitModel(model);
    const logits = (x) => lm.apply(x, {training: false});
    const parts = [];
    for (const eps of results.epsilons) {
      // The first attackCount digits certified at eps: PGD must break none of them.
      const ids = [];
      for (let i = 0; i < n && ids.length < attackCount; ++i) if (c.correct[i] && c.radius[i] >= eps) ids.push(i);
      if (ids.length === 0) continue;
      const idx = tf.tensor1d(Int32Array.from(ids), 'int32');
      const x = tf.gather(evalT.x, idx);
      idx.dispose();
      const r = pgdAccuracy(logits, {x, labels: Uint8Array.from(ids, (i) => images.labels[i])}, [eps],
        {steps: results.pgd?.steps ?? 50, restarts: results.pgd?.restarts || 3, seed: 7});
      x.dispose();
      const broken = r.robust[0].filter((ok) => !ok).length;
      if (broken > 0) problems.push(`PGD broke ${broken} of ${ids.length} digits certified at ${eps}`);
      parts.push(`${broken}/${ids.length} broken at ${eps}`);
    }
    attacked = `; PGD on certified digits: ${parts.join(', ')}`;
  }
  model.dispose();
  const cert = results.epsilons.map((e) => `${e}: ${(100 * c.certified[String(e)]).toFixed(2)}%`).join(', ');
  console.log(`${row.model.padEnd(19)} ${problems.length ? 'FAIL' : 'ok  '} clean ${(100 * c.cleanAccuracy).toFixed(2)}%, ` +
    `L ${c.bound.toPrecision(10)}, certified ${cert}${attacked}` + (problems.length ? `\n  ${problems.join('\n  ')}` : ''));
  if (problems.length) ++failures;
}
evalT.x.dispose();
evalT.y.dispose();
console.log(failures ? `\n${failures} model(s) FAILED` : '\nEvery certificate re-checked: the saved models give the numbers of results.json, ' +
  'and PGD broke no certified digit.');
process.exit(failures ? 1 : 0);
