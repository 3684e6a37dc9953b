#!/usr/bin/env node
// Benchmark (not a test) of exportToStandardLayers on sparse spline nets: how the exported
// model's parameter count and predict time follow the knot count. Imports the packages' dist
// builds (`npm run build` first).
//
//   node bench/sparse_export.mjs [--quick]
//
// Nets: the 2-D benchmark's 2-4-4-1 spline net (examples/twod: size-21 splines, TV(2) 1e-5,
// the default short schedule, seed 0) trained here on circle and on s_shape, predicting the
// 200 x 200 test grid (times: its first 4,096 points); the committed MNIST spline net (examples/mnist/reference/models/spline:
// 784-512-512-10, two per-channel size-21 spline layers) and its proximally trained 1-Lipschitz
// net (models/spline_lip1_sparse, 1,317 exactly non-zero knots of 19,456), on the 10,000 test digits
// (times: the first 512).
// Sparsity levels: `sparsify(model, threshold)` (@deepspline/lipschitz) at thresholds that
// keep about 100 / 50 / 25 / 10 / 5 / 2 / 0 % of the net's active knots (quantiles of its non-zero |a_k|), then
// `exportToStandardLayers(model, {knotThreshold: threshold, splineForm})`. Times: `predict`,
// median over interleaved rounds (every model once per round), on the
// cpu and wasm backends (the plugin row runs the spline net itself, with @deepspline/wasm's
// kernel on wasm). Prints a markdown table and the machine (CPU model, cores).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import '@deepspline/wasm';
import {exportToStandardLayers} from '@deepspline/layers';
import {modelActiveKnots, sparsify, splineLayers} from '@deepspline/lipschitz';
import {readFileSync} from 'node:fs';
import {cpus, loadavg} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseCommandLine} from '../scripts/cli.mjs';
import {fileLoadHandler} from '../examples/shared/fs_io.mjs';
import {SHORT_SCHEDULE} from '../examples/twod/lib/cli.mjs';
import {makeDataset} from '../examples/twod/lib/data.mjs';
import {buildModel} from '../examples/twod/lib/models.mjs';
import {deriveSeed} from '../examples/shared/prng.mjs';
import {trainModel} from '../examples/twod/lib/train.mjs';
import {mnistSplit} from '../examples/mnist/lib/data.mjs';

const args = parseCommandLine({quick: {type: 'boolean', default: false}},
  'usage: node bench/sparse_export.mjs [--quick]');
const ROUNDS = args.quick ? 2 : 7;
/** Inputs per timed predict: the first of the test set. */
const BATCH = {twod: 4096, mnist: 512};
const KEEP = [1, 0.5, 0.25, 0.1, 0.05, 0.02, 0];
const FORMS = ['hats', 'ramps'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const log = (msg) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function machine() {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  return `${model}, ${cpus().length} cores, Node ${process.version}, tfjs ${tf.version_core}`;
}

/** The threshold that keeps about `keep` of the net's active knots: a quantile of its non-zero |a_k| (float64). */
function thresholdFor(model, keep) {
  if (keep === 1) return 0;
  // quantiles of the knots the net uses (a_k != 0): a proximally trained net's exact zeros
  // would otherwise make every level down to its own sparsity threshold 0
  const a = splineLayers(model).flatMap(({layer}) => {
    const t = layer.reluSlopes();
    const v = Array.from(t.dataSync(), Math.abs).filter((x) => x > 0);
    t.dispose();
    return v;
  }).sort((x, y) => x - y);
  if (a.length === 0) return 0;
  return keep === 0 ? a[a.length - 1] : a[Math.min(a.length - 1, Math.floor((1 - keep) * a.length))];
}

/**
 * The exported units of each spline layer: the width of its `<name>_weights` layer (a
 * DepthwiseConv2D [1, U, C, 1], shared: a Dense [U, 1]); 0 for an affine `<name>_affine`.
 */
function exportedUnits(exported) {
  return exported.layers.filter((l) => /_(weights|affine)(_\d+)?$/.test(l.name)).map((l) => {
    if (/_affine(_\d+)?$/.test(l.name)) return 0;
    const shape = l.getWeights()[0].shape;
    return l.getClassName() === 'Dense' ? shape[0] : shape[1];
  });
}

function accuracy(model, x, labels) {
  return tf.tidy(() => {
    const p = model.predict(x);
    const predicted = p.shape[1] === 1 ? tf.reshape(tf.cast(tf.greater(p, 0.5), 'int32'), [-1]) : tf.argMax(p, 1);
    return tf.mean(tf.cast(tf.equal(predicted, tf.tensor1d(labels, 'int32')), 'float32')).dataSync()[0];
  });
}

/** max |a - b| over the predictions on x. */
function maxDiff(a, b, x) {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x), b.predict(x)))).dataSync()[0]);
}

/** Sparsity levels of one trained net: the sparsified nets' knots, accuracy and exports. */
function levels(model, x, labels) {
  const original = model.getWeights().map((w) => w.clone());
  const rows = [];
  for (const keep of KEEP) {
    model.setWeights(original);
    const threshold = thresholdFor(model, keep);
    sparsify(model, threshold);
    const row = {keep, threshold, knots: modelActiveKnots(model, threshold).total,
      exactKnots: modelActiveKnots(model, 0).total, accuracy: accuracy(model, x, labels), exports: {}};
    for (const form of FORMS) {
      const e = exportToStandardLayers(model, {splineForm: form, knotThreshold: threshold});
      row.exports[form] = {model: e, params: e.countParams(), units: exportedUnits(e), maxDiff: maxDiff(model, e, x)};
    }
    rows.push(row);
  }
  model.setWeights(original);
  tf.dispose(original);
  return rows;
}

/** Interleaved predict timings (ms, median over rounds) of the plugin net and every export. */
function time(model, rows, all, batch) {
  const x = tf.slice(all, 0, batch);
  const cases = [{key: 'plugin', m: model}, ...rows.flatMap((r, i) => FORMS.map((f) => ({key: `${i}:${f}`, m: r.exports[f].model})))];
  const times = Object.fromEntries(cases.map((c) => [c.key, []]));
  const once = (m) => {
    const start = performance.now();
    const y = m.predict(x);
    y.dataSync();
    const ms = performance.now() - start;
    y.dispose();
    return ms;
  };
  cases.forEach((c) => once(c.m));  // warm-up
  for (let r = 0; r < ROUNDS; ++r) for (const c of cases) times[c.key].push(once(c.m));
  x.dispose();
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

async function twodNet(dataset) {
  await tf.setBackend('cpu');
  const data = makeDataset(dataset, 0);
  const modelSeed = deriveSeed(0, `${dataset}:spline`);
  const model = buildModel('spline', {seed: modelSeed, lambda: 1e-5, weightDecay: 1e-5});
  await trainModel(model, data.train, {...SHORT_SCHEDULE, seed: deriveSeed(modelSeed, 'shuffle')});
  log(`trained the ${dataset} net`);
  return {name: `twod ${dataset}`, batch: BATCH.twod, model, x: tf.tensor2d(data.test.x, [data.test.n, 2]), labels: Int32Array.from(data.test.y)};
}

async function mnistNet(net, name) {
  const model = await tfl.loadLayersModel(fileLoadHandler(join(root, `examples/mnist/reference/models/${net}/model.json`)));
  const {eval: test} = mnistSplit();
  return {name, batch: BATCH.mnist, model, x: tf.tensor2d(test.x, [test.n, 784]), labels: Int32Array.from(test.labels)};
}

const fmt = (v, digits = 3) => (v >= 100 ? v.toFixed(0) : v.toPrecision(digits));
const lines = [
  `Machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start. ` +
    `${ROUNDS} interleaved rounds, median ms of predict on the first ${BATCH.twod} (twod) / ${BATCH.mnist} (MNIST) ` +
    'test inputs; accuracy and max |diff| (export vs the sparsified net) on the whole test set.', '',
  '| net | threshold | knots (exact) | accuracy | units per spline layer | params hats | params ramps | cpu ms hats | cpu ms ramps | wasm ms hats | wasm ms ramps | max \\|diff\\| |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const make of [() => twodNet('circle'), () => twodNet('s_shape'), () => mnistNet('spline', 'MNIST'),
  () => mnistNet('spline_lip1_sparse', 'MNIST proximal 1-Lip.')]) {
  await tf.setBackend('cpu');
  const {name, batch, model, x, labels} = await make();
  const rows = levels(model, x, labels);
  const ms = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    ms[backend] = time(model, rows, x, batch);
    log(`${name}: timed on ${backend}`);
  }
  const all = rows[0].knots;
  lines.push(`| ${name} (plugin) | - | ${all} | ${(100 * rows[0].accuracy).toFixed(2)} % | - | ${model.countParams()} | - | ` +
    `${fmt(ms.cpu.plugin)} | - | ${fmt(ms.wasm.plugin)} | - | - |`);
  rows.forEach((r, i) => {
    const h = r.exports.hats;
    const rp = r.exports.ramps;
    lines.push(`| ${name} | ${r.threshold === 0 ? '0' : r.threshold.toPrecision(2)} | ${r.knots} of ${all} (${r.exactKnots}) | ` +
      `${(100 * r.accuracy).toFixed(2)} % | ${h.units.join(', ')} | ${h.params} | ${rp.params} | ${fmt(ms.cpu[`${i}:hats`])} | ` +
      `${fmt(ms.cpu[`${i}:ramps`])} | ${fmt(ms.wasm[`${i}:hats`])} | ${fmt(ms.wasm[`${i}:ramps`])} | ` +
      `${Math.max(h.maxDiff, rp.maxDiff).toExponential(1)} |`);
  });
  rows.forEach((r) => FORMS.forEach((f) => r.exports[f].model.dispose()));
  model.dispose();
  x.dispose();
}
console.log(lines.join('\n'));
