#!/usr/bin/env node
// Benchmark of the linear-spline activation (`npm run bench`, which builds the packages first;
// this script imports their dist builds). Not a test: it prints a table and writes
// bench/results.json (structured rows: bench/report.mjs renders them into the READMEs'
// tables, `node bench/report.mjs --write`). All numbers of one table come from the same run; cases are interleaved
// round by round (every case once per round) so that machine load drifts hit all of them
// alike, and each figure is the median over its rounds.
//
//   node bench/run.mjs [--quick] [--export-only] [--training-only] [--out bench/results.json]
//
// 1. Elementwise op on x = 4096 x 256 float32 (1M elements), K in {5, 21, 51, 101}, per-channel
//    coefficients [256, K], knots on [-2, 2], x uniform on [-3, 3] (some extrapolation):
//    forward (op) and forward+backward (tf.grads with a given dy: dx and the parameter
//    gradient), for our fused kernel, the composite fallback, tf.relu and tf.prelu (per-channel
//    alpha), on the wasm backend and on the cpu backend.
// 2. Training throughput (samples/s of model.fit, batch 256, Adam) of a 3-layer 256-unit MLP
//    (256 -> 256 -> 256 -> 256 -> 10) with SplineActivation (size 21) vs relu, on wasm.
// 3. The cost of deploying without the plugin: parameters and inference time (predict, batch
//    256) of that spline MLP vs its exportToStandardLayers exports (hats, ramps) and the relu
//    MLP, on wasm and cpu. `--export-only` runs just these rows (and writes no results file).
// 4. Training of 784-W-W-10 MLPs (plain, spline, 1-Lipschitz) on wasm and cpu, and the same
//    nets in PyTorch when /usr/bin/python3 imports torch: bench/training.mjs. `--training-only`
//    runs just this section and replaces it in the results file (with its own date and machine),
//    keeping the other sections of the earlier run.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';  // also registers tfjs-core's gradients
import {linearSpline, setSplineImplementation, splineImplementation} from '@deepspline/core';
import {setWasmBinary, wasmKernelInfo} from '@deepspline/wasm';
import {exportToStandardLayers, splineActivation} from '@deepspline/layers';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseCommandLine} from '../scripts/cli.mjs';
import {opRows, SECTIONS} from './report.mjs';
import {torchBench, trainingBench} from './training.mjs';

const USAGE = 'usage: node bench/run.mjs [--quick] [--export-only] [--training-only] [--out FILE]   ' +
  '(default out: bench/results.json)';
const args = parseCommandLine({
  'quick': {type: 'boolean', default: false},
  'export-only': {type: 'boolean', default: false},
  'training-only': {type: 'boolean', default: false},
  'out': {type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'results.json')},
}, USAGE);
const quick = args.quick;
const exportOnly = args['export-only'];
const outFile = resolve(args.out);

const ROWS = 4096;
const CH = 256;
const KS = [5, 21, 51, 101];
const RANGE = 2;
const FAST_ROUNDS = quick ? 5 : 15;
const SLOW_ROUNDS = quick ? 2 : 3;
const t0 = performance.now();
const log = (msg) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs `fn` (which returns tensors) once and disposes everything. The wasm and cpu backends
 * run their kernels synchronously, so the time to return is the compute time; reading the
 * result back (a 4 MB copy) is deliberately not included.
 */
function timeOnce(fn) {
  const start = performance.now();
  const out = tf.tidy(fn);
  const ms = performance.now() - start;
  tf.dispose(out);
  return ms;
}

/** Interleaved timing: cases = [{name, fn, slow}], returns {name: medianMs}. */
function measure(cases, label) {
  const times = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (const c of cases) if (!c.slow) timeOnce(c.fn);  // warm-up (compilation, allocation)
  // The slow (fallback) cases share their code paths: warming up the first two is enough.
  for (const c of cases.filter((c) => c.slow).slice(0, 2)) {
    timeOnce(c.fn);
    log(`${label}: warm-up ${c.name}`);
  }
  for (let round = 0; round < FAST_ROUNDS; ++round) {
    for (const c of cases) {
      if (c.slow && round >= SLOW_ROUNDS) continue;
      times[c.name].push(timeOnce(c.fn));
    }
    log(`${label}: round ${round + 1}/${FAST_ROUNDS}`);
  }
  const best = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.min(...v)]));
  return {median: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])), best};
}

function withImpl(impl, fn) {
  return () => {
    setSplineImplementation(impl);
    try { return fn(); } finally { setSplineImplementation(null); }
  };
}

function opCases(x, dy) {
  const alpha = tf.keep(tf.fill([CH], 0.1));
  const cases = [
    {name: 'relu fwd', fn: () => tf.relu(x)},
    {name: 'relu fwd+bwd', fn: () => tf.grads((a) => tf.relu(a))([x], dy)},
    {name: 'prelu fwd', fn: () => tf.prelu(x, alpha)},
    {name: 'prelu fwd+bwd', fn: () => tf.grads((a, b) => tf.prelu(a, b))([x, alpha], dy)},
  ];
  const coefficients = [];
  for (const K of KS) {
    const step = 2 * RANGE / (K - 1);
    const grid = {start: -RANGE, step};
    // A leaky-relu-like spline with a little noise (not that it matters for speed).
    const c = tf.keep(tf.tidy(() => tf.add(
      tf.tile(tf.reshape(tf.leakyRelu(tf.linspace(-RANGE, RANGE, K), 0.1), [1, K]), [CH, 1]),
      tf.randomUniform([CH, K], -0.01, 0.01, 'float32', K))));
    coefficients.push(c);
    for (const impl of ['kernel', 'fallback']) {
      const slow = impl === 'fallback';
      cases.push({name: `${impl} K=${K} fwd`, slow, fn: withImpl(impl, () => linearSpline(x, c, grid))});
      cases.push({name: `${impl} K=${K} fwd+bwd`, slow,
        fn: withImpl(impl, () => tf.grads((a, b) => linearSpline(a, b, grid))([x, c], dy))});
    }
    if (tf.getBackend() === 'wasm') {  // the scalar binary, forced: what SIMD brings
      const scalar = (fn) => () => {
        setWasmBinary('scalar');
        try { return withImpl('kernel', fn)(); } finally { setWasmBinary(null); }
      };
      cases.push({name: `scalar K=${K} fwd`, fn: scalar(() => linearSpline(x, c, grid))});
      cases.push({name: `scalar K=${K} fwd+bwd`,
        fn: scalar(() => tf.grads((a, b) => linearSpline(a, b, grid))([x, c], dy))});
    }
  }
  const extra = [];
  if (tf.getBackend() === 'wasm') {
    // Informative: the forward pass on other inputs. One spline shared by all channels (its
    // table is tiny at any K), and x with every other value an exact 0 (a knot of these odd
    // grids: the kernel's fast path must not fall back to division there).
    for (const K of [21, 101]) {
      const grid = {start: -RANGE, step: 2 * RANGE / (K - 1)};
      const c = tf.keep(tf.tidy(() => tf.reshape(tf.leakyRelu(tf.linspace(-RANGE, RANGE, K), 0.1), [1, K])));
      extra.push(c);
      cases.push({name: `shared K=${K} fwd`, fn: withImpl('kernel', () => linearSpline(x, c, grid))});
    }
    const xz = tf.keep(tf.tidy(() => tf.mul(x, tf.reshape(tf.tile(tf.tensor1d([0, 1]), [ROWS * CH / 2]), [ROWS, CH]))));
    extra.push(xz);
    const c21 = coefficients[KS.indexOf(21)];
    cases.push({name: 'zeros K=21 fwd',
      fn: withImpl('kernel', () => linearSpline(xz, c21, {start: -RANGE, step: 2 * RANGE / 20}))});
  }
  return {cases, dispose: () => tf.dispose([alpha, ...coefficients, ...extra])};
}

async function opBench(backend) {
  await tf.setBackend(backend);
  log(`${backend}: ${ROWS}x${CH} elements; spline implementation by default: ${splineImplementation()}`);
  const x = tf.randomUniform([ROWS, CH], -3, 3, 'float32', 1);
  const dy = tf.randomUniform([ROWS, CH], -1, 1, 'float32', 2);
  const {cases, dispose} = opCases(x, dy);
  const before = tf.memory().numTensors;
  const {median: ms, best} = measure(cases, backend);
  bestMs[backend] = best;
  if (tf.memory().numTensors !== before) throw new Error(`${backend}: tensors leaked in the benchmark`);
  dispose();
  tf.dispose([x, dy]);
  return ms;
}

function mlp(activation) {
  const model = tfl.sequential();
  for (let i = 0; i < 3; ++i) {
    model.add(tfl.layers.dense({units: 256, inputShape: i === 0 ? [256] : undefined,
      kernelInitializer: tfl.initializers.glorotUniform({seed: i})}));
    if (activation === 'relu') model.add(tfl.layers.activation({activation: 'relu'}));
    else model.add(splineActivation({size: 21, range: 2}));
  }
  model.add(tfl.layers.dense({units: 10, activation: 'softmax',
    kernelInitializer: tfl.initializers.glorotUniform({seed: 9})}));
  model.compile({optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy'});
  return model;
}

async function trainBench() {
  await tf.setBackend('wasm');
  const N = quick ? 1024 : 2048;
  const xs = tf.randomNormal([N, 256], 0, 1, 'float32', 3);
  const ys = tf.oneHot(tf.randomUniform([N], 0, 10, 'int32', 4), 10);
  const models = {relu: mlp('relu'), spline: mlp('spline')};
  const variants = [['relu', 'relu', null], ['spline (wasm kernel)', 'spline', 'kernel'],
    ['spline (fallback)', 'spline', 'fallback']];
  const samples = Object.fromEntries(variants.map(([name]) => [name, []]));
  const fit = async (model, impl) => {
    setSplineImplementation(impl);
    try {
      const start = performance.now();
      await model.fit(xs, ys, {batchSize: 256, epochs: 1, shuffle: false, verbose: 0});
      return N / ((performance.now() - start) / 1000);
    } finally {
      setSplineImplementation(null);
    }
  };
  for (const [, m, impl] of variants) await fit(models[m], impl);  // warm-up (optimizer slots)
  const rounds = quick ? 2 : 4;
  for (let r = 0; r < rounds; ++r) {
    for (const [name, m, impl] of variants) samples[name].push(await fit(models[m], impl));
    log(`training: round ${r + 1}/${rounds}`);
  }
  Object.values(models).forEach((m) => m.dispose());
  tf.dispose([xs, ys]);
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const EXPORT_BATCH = 256;

/** Inference of the spline MLP, its standard-layer exports and the relu MLP on one backend. */
async function exportBench(backend) {
  await tf.setBackend(backend);
  const spline = mlp('spline');
  // Leaky-ReLU splines with a little noise: every knot bends, so the exports have a unit per
  // knot (the cost of a dense spline; a sparse one exports smaller, bench/sparse_export.mjs).
  spline.layers.filter((l) => l.getClassName() === 'SplineActivation').forEach((l, i) => {
    const [c] = l.getWeights();
    const noisy = tf.tidy(() => tf.add(c, tf.randomUniform(c.shape, -0.01, 0.01, 'float32', 40 + i)));
    l.setWeights([noisy]);
    noisy.dispose();
  });
  const models = {relu: mlp('relu'), spline, 'export (hats)': exportToStandardLayers(spline),
    'export (ramps)': exportToStandardLayers(spline, {splineForm: 'ramps'})};
  const x = tf.randomNormal([EXPORT_BATCH, 256], 0, 1, 'float32', 5);
  const cases = Object.entries(models).map(([name, m]) => ({name, fn: () => m.predict(x)}));
  const before = tf.memory().numTensors;
  const {median: ms} = measure(cases, `export ${backend}`);
  if (tf.memory().numTensors !== before) throw new Error(`${backend}: tensors leaked in the export benchmark`);
  const params = Object.fromEntries(Object.entries(models).map(([name, m]) => [name, m.countParams()]));
  const layers = Object.fromEntries(Object.entries(models).map(([name, m]) => [name, m.layers.length]));
  Object.values(models).forEach((m) => m.dispose());
  x.dispose();
  return {ms, params, layers};
}

/** The standard-export rows of results.json from the wasm and cpu measurements of exportBench. */
function exportRows({wasm, cpu}) {
  return Object.keys(wasm.ms).map((model) => ({model: model === 'spline' ? 'spline (this plugin)' : model,
    layers: wasm.layers[model], parameters: wasm.params[model], ms: {wasm: wasm.ms[model], cpu: cpu.ms[model]},
    overSpline: {wasm: wasm.ms[model] / wasm.ms.spline, cpu: cpu.ms[model] / cpu.ms.spline}}));
}

const standardExport = (measured) => ({source: 'this run', batch: EXPORT_BATCH, rows: exportRows(measured)});

const bestMs = {};
const info = wasmKernelInfo();
log(`@deepspline/wasm: ${JSON.stringify(info)}`);
if (exportOnly) {
  const rows = standardExport({wasm: await exportBench('wasm'), cpu: await exportBench('cpu')});
  console.log(SECTIONS['layers-export']({standardExport: rows}));
  process.exit(0);
}
const machine = {cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
  tfjs: tf.version_core, wasmKernels: info};

/** The training section (bench/training.mjs and the PyTorch twins), dated and with its machine. */
async function mlpTraining() {
  const rows = await trainingBench({quick, log});
  log('training: PyTorch (bench/torch_training.py) if /usr/bin/python3 imports torch');
  const torch = torchBench({quick});
  log(torch.available ? `PyTorch ${torch.torch}, ${torch.blas}` : `PyTorch rows skipped: ${torch.reason}`);
  return {batch: 256, rows, torch, date: new Date().toISOString(), machine};
}

if (args['training-only']) {
  const results = {...JSON.parse(readFileSync(outFile, 'utf8')), mlpTraining: await mlpTraining()};
  console.log(SECTIONS['training-table'](results));
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  log(`replaced the training section of ${outFile}; \`node bench/report.mjs --write\` updates the READMEs`);
  process.exit(0);
}
const wasm = await opBench('wasm');
const cpu = await opBench('cpu');
const train = await trainBench();
const exported = {wasm: await exportBench('wasm'), cpu: await exportBench('cpu')};
const training = await mlpTraining();

const worst = (ms, key, ref) => Math.max(...KS.map((K) => ms[`kernel K=${K} ${key}`] / ref));
const leastSpeedup = (ms, key) => Math.min(...KS.map((K) => ms[`fallback K=${K} ${key}`] / ms[`kernel K=${K} ${key}`]));
const targets = [
  {name: 'wasm forward <= 2x tf.relu (worst K)', value: worst(wasm, 'fwd', wasm['relu fwd']), target: 2, lower: true},
  {name: 'wasm fwd+bwd <= 3x relu fwd+bwd (worst K)', value: worst(wasm, 'fwd+bwd', wasm['relu fwd+bwd']), target: 3, lower: true},
  {name: 'wasm kernel >= 10x faster than fallback, forward (least K)', value: leastSpeedup(wasm, 'fwd'), target: 10, lower: false},
  {name: 'wasm kernel >= 10x faster than fallback, fwd+bwd (least K)', value: leastSpeedup(wasm, 'fwd+bwd'), target: 10, lower: false},
  {name: 'cpu JS kernel >= 5x faster than fallback, forward (least K)', value: leastSpeedup(cpu, 'fwd'), target: 5, lower: false},
  {name: 'cpu JS kernel >= 5x faster than fallback, fwd+bwd (least K)', value: leastSpeedup(cpu, 'fwd+bwd'), target: 5, lower: false},
  {name: 'SIMD vs scalar binary, forward speed-up (least K; no target)',
    value: Math.min(...KS.map((K) => wasm[`scalar K=${K} fwd`] / wasm[`kernel K=${K} fwd`])), target: 1, lower: false},
  {name: 'spline MLP training >= 0.75x relu MLP samples/s (wasm)', value: train['spline (wasm kernel)'] / train.relu, target: 0.75, lower: false},
].map((t) => ({...t, met: t.lower ? t.value <= t.target : t.value >= t.target}));
// The same ratios from the fastest round of each case (less sensitive to other processes on a
// shared machine; informative only, the targets are judged on medians).
const bestRatios = [
  ['wasm forward / relu (worst K)', worst(bestMs.wasm, 'fwd', bestMs.wasm['relu fwd'])],
  ['wasm fwd+bwd / relu fwd+bwd (worst K)', worst(bestMs.wasm, 'fwd+bwd', bestMs.wasm['relu fwd+bwd'])],
  ['wasm fallback / kernel, forward (least K)', leastSpeedup(bestMs.wasm, 'fwd')],
  ['cpu fallback / kernel, forward (least K)', leastSpeedup(bestMs.cpu, 'fwd')],
  ['wasm scalar / SIMD binary, forward (least K)',
    Math.min(...KS.map((K) => bestMs.wasm[`scalar K=${K} fwd`] / bestMs.wasm[`kernel K=${K} fwd`]))],
].map(([name, value]) => ({name, value}));

const results = {
  format: 2,
  date: new Date().toISOString(),
  machine,
  config: {rows: ROWS, channels: CH, Ks: KS, range: RANGE, fastRounds: FAST_ROUNDS, slowRounds: SLOW_ROUNDS,
    quick},
  ops: [...opRows('wasm', wasm, bestMs.wasm, KS), ...opRows('cpu', cpu, bestMs.cpu, KS)],
  training: Object.entries(train).map(([name, samplesPerSecond]) => {
    const [, activation, impl] = /^(\w+)(?: \((wasm kernel|fallback)\))?$/.exec(name);
    return {activation, implementation: impl == null ? null : impl === 'wasm kernel' ? 'kernel' : 'fallback',
      samplesPerSecond, overRelu: samplesPerSecond / train.relu};
  }),
  standardExport: standardExport(exported),
  mlpTraining: training,
  targets,
  bestRatios,
};
console.log([SECTIONS['wasm-tables'](results), SECTIONS['layers-export'](results),
  SECTIONS['training-table'](results)].join('\n\n'));
mkdirSync(dirname(outFile), {recursive: true});
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
log(`wrote ${outFile}; \`node bench/report.mjs --write\` updates the READMEs`);
