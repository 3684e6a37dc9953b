#!/usr/bin/env node
/**
 * Converting an existing model to deep splines: builds a small ReLU conv net (or loads a
 * model.json), converts it with `withSplineActivations` (same outputs before training),
 * fine-tunes it on synthetic data with the TV(2) regularizer and the Lipschitz callback in
 * monitor mode, saves it to disk and loads it back, then exports it to stock tfjs layers
 * (`exportToStandardLayers`) and reloads that with plain tfjs in a separate process. Run with
 * `--help` for the options.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, exportToStandardLayers, withSplineActivations} from '@deepspline/layers';
import {lipschitzBound, lipschitzCallback, modelActiveKnots, tv2Regularizer} from '@deepspline/lipschitz';
import {commandLine, parseOptions} from '../../scripts/cli.mjs';
import {fileLoadHandler, fileSaveHandler} from '../shared/fs_io.mjs';
import {mulberry32 as prng} from '../shared/prng.mjs';
import {tfjsNoticeFirst} from '../shared/tfjs_notice.mjs';

const HELP = `Convert an existing tfjs model to deep splines, fine-tune, save and reload it, and
export it to stock tfjs layers (reloaded with plain tfjs).

Usage: node examples/existing-model/index.mjs [options]

Options:
  --model PATH          a tfjs layers model.json to convert (default: a built-in small ReLU
                        conv net, pre-trained on synthetic bar images)
  --epochs N            fine-tuning epochs of the spline model (default: 4)
  --pretrain-epochs N   training epochs of the built-in ReLU net before conversion (default: 3)
  --samples N           synthetic training samples (default: 800; 200 more for testing)
  --lambda X            TV(2) weight of the spline coefficients (default: 1e-4)
  --seed N              seed of the data and the initializers (default: 0)
  --out DIR             output folder (default: out/existing-model)
  -h, --help            this help
`;

/** Options that take a number: [key, kind, minimum] (scripts/cli.mjs's parseOptions). */
const NUMBER_OPTIONS = {'epochs': ['epochs', 'int', 1], 'pretrain-epochs': ['pretrainEpochs', 'int', 0],
  'samples': ['samples', 'int', 10], 'seed': ['seed', 'int', 0], 'lambda': ['lambda', 'nonneg']};

function parseArgs(argv) {
  const {parsed, values} = parseOptions(argv, NUMBER_OPTIONS,
    {'model': {type: 'string'}, 'out': {type: 'string'}, 'help': {type: 'boolean', short: 'h'}});
  return {model: parsed.model ?? null, epochs: 4, pretrainEpochs: 3, samples: 800, lambda: 1e-4,
    seed: 0, out: parsed.out ?? 'out/existing-model', help: Boolean(parsed.help), ...values};
}

const SIDE = 12;

/**
 * Synthetic 12 x 12 grey images of one bar, horizontal (class 0) or vertical (class 1), at a
 * random position and brightness, plus uniform noise. Returns one-hot labels.
 */
function barImages(n, seed) {
  const rand = prng(seed);
  const x = new Float32Array(n * SIDE * SIDE);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; ++i) {
    const cls = rand() < 0.5 ? 0 : 1;
    const pos = 1 + Math.floor(rand() * (SIDE - 2));
    const from = Math.floor(rand() * 4);
    const to = SIDE - Math.floor(rand() * 4);
    const level = 0.3 + 0.4 * rand();
    for (let r = 0; r < SIDE; ++r) {
      for (let c = 0; c < SIDE; ++c) {
        const along = cls === 0 ? c : r;
        const across = cls === 0 ? r : c;
        const on = across === pos && along >= from && along < to;
        x[(i * SIDE + r) * SIDE + c] = (on ? level : 0) + 0.9 * (rand() - 0.5);
      }
    }
    y[2 * i + cls] = 1;
  }
  return {x: tf.tensor4d(x, [n, SIDE, SIDE, 1]), y: tf.tensor2d(y, [n, 2]), n};
}

/** The built-in "existing" model: a small ReLU conv net. */
function smallConvNet(seed) {
  const init = (k) => tfl.initializers.glorotUniform({seed: seed * 100 + k});
  return tfl.sequential({name: 'small_cnn', layers: [
    tfl.layers.conv2d({inputShape: [SIDE, SIDE, 1], filters: 8, kernelSize: 3, activation: 'relu',
      kernelInitializer: init(1), name: 'conv1'}),
    tfl.layers.maxPooling2d({poolSize: 2, name: 'pool'}),
    tfl.layers.conv2d({filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(2), name: 'conv2'}),
    tfl.layers.flatten({name: 'flatten'}),
    tfl.layers.dense({units: 16, activation: 'relu', kernelInitializer: init(3), name: 'hidden'}),
    tfl.layers.dense({units: 2, activation: 'softmax', kernelInitializer: init(4), name: 'classes'}),
  ]});
}

const maxAbsDiff = (a, b) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const accuracyOf = (model, data) => tf.tidy(() =>
  tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(data.x), -1), tf.argMax(data.y, -1)), 'float32')).dataSync()[0]);

const opts = commandLine(parseArgs, HELP);
await tf.setBackend('cpu');
tfjsNoticeFirst();
const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
const started = Date.now();
/** A difference in exponent notation, and 0 as 0 (not 0.00e+0). */
const difference = (v) => (v === 0 ? '0' : v.toExponential(2));

// 1. The existing model and its data.
let original;
let train;
let test;
let loss;
if (opts.model == null) {
  original = smallConvNet(opts.seed);
  train = barImages(opts.samples, opts.seed * 2 + 1);
  test = barImages(200, opts.seed * 2 + 2);
  loss = 'categoricalCrossentropy';
  if (opts.pretrainEpochs > 0) {
    original.compile({optimizer: tf.train.adam(3e-3), loss, metrics: ['accuracy']});
    await original.fit(train.x, train.y, {epochs: opts.pretrainEpochs, batchSize: 32, shuffle: false, verbose: 0});
  }
  console.log(`Built the ReLU conv net "${original.name}" (${original.countParams()} parameters), ` +
    `trained ${opts.pretrainEpochs} epochs: test accuracy ${(100 * accuracyOf(original, test)).toFixed(1)}%`);
} else {
  original = await tfl.loadLayersModel(fileLoadHandler(opts.model));
  // Synthetic data for any model: uniform inputs; the targets are the loaded model's own
  // outputs on clean inputs, and the spline model is fine-tuned on noisy inputs (denoising).
  const shape = original.inputs[0].shape.slice(1).map((d) => d ?? 8);
  const clean = tf.randomUniform([opts.samples + 200, ...shape], -1, 1, 'float32', opts.seed + 1);
  const noisy = tf.add(clean, tf.randomUniform(clean.shape, -0.1, 0.1, 'float32', opts.seed + 2));
  const targets = original.predict(clean);
  const split = (t, a, n) => tf.slice(t, [a], [n]);
  train = {x: split(noisy, 0, opts.samples), y: split(targets, 0, opts.samples), n: opts.samples};
  test = {x: split(noisy, opts.samples, 200), y: split(targets, opts.samples, 200), n: 200};
  tf.dispose([clean, noisy, targets]);
  loss = 'meanSquaredError';
  console.log(`Loaded ${opts.model}: "${original.name}" (${original.countParams()} parameters)`);
}
await original.save(fileSaveHandler(join(out, 'original')));

// 2. Convert: every ReLU becomes a spline initialised to ReLU (same outputs).
const spline = withSplineActivations(original, {size: 21, range: 2,
  coefficientsRegularizer: opts.lambda > 0 ? tv2Regularizer({lambda: opts.lambda}) : undefined});
const splineLayers = spline.layers.filter((l) => l instanceof SplineActivation).map((l) => l.name);
const before = original.predict(test.x);
const afterConversion = spline.predict(test.x);
const conversionMaxDiff = maxAbsDiff(before, afterConversion);
tf.dispose([before, afterConversion]);
console.log(`Converted: ${splineLayers.length} spline layers (${splineLayers.join(', ')}), ` +
  `${spline.countParams()} parameters; max |difference| of the predictions: ${difference(conversionMaxDiff)}`);

// 3. Fine-tune with TV(2) and the Lipschitz callback (monitor).
spline.compile({optimizer: tf.train.adam(1e-3), loss, ...(loss === 'categoricalCrossentropy' ? {metrics: ['accuracy']} : {})});
const monitor = lipschitzCallback({mode: 'monitor'});
const t0 = Date.now();
const history = await spline.fit(train.x, train.y, {epochs: opts.epochs, batchSize: 32, shuffle: false,
  verbose: 0, callbacks: [monitor, new tfl.CustomCallback({onEpochEnd: async (epoch, logs) => {
    const acc = logs.acc != null ? `, accuracy ${(100 * logs.acc).toFixed(1)}%` : '';
    console.log(`  epoch ${epoch + 1}/${opts.epochs}: loss ${logs.loss.toFixed(4)}${acc}, ` +
      `Lipschitz bound ${logs.lipschitz.toPrecision(4)}`);
  }})]});
const trainSeconds = (Date.now() - t0) / 1000;
const testMetric = loss === 'categoricalCrossentropy' ? accuracyOf(spline, test) :
  tf.tidy(() => tf.mean(tf.square(tf.sub(spline.predict(test.x), test.y))).dataSync()[0]);

// 4. Save to disk, load back, compare.
const savedDir = join(out, 'spline');
await spline.save(fileSaveHandler(savedDir));
const loaded = await tfl.loadLayersModel(fileLoadHandler(join(savedDir, 'model.json')));
const a = spline.predict(test.x);
const b = loaded.predict(test.x);
const reloadMaxDiff = maxAbsDiff(a, b);
tf.dispose([a, b]);
const loadedSplines = loaded.layers.filter((l) => l instanceof SplineActivation).length;
const loadedRegularizer = loaded.layers.find((l) => l instanceof SplineActivation)?.coefficientsRegularizer?.getClassName() ?? null;
console.log(`Saved to ${savedDir} (model.json + weights.bin) and loaded back: ${loadedSplines} spline ` +
  `layers, regularizer ${loadedRegularizer}; max |difference| of the predictions: ${difference(reloadMaxDiff)}`);

// 5. Export to stock tfjs layers (no plugin needed to run it) and reload that in a separate
// Node process that imports only tfjs (load_standard.mjs).
const standard = exportToStandardLayers(spline);
const standardDir = join(out, 'standard');
await standard.save(fileSaveHandler(standardDir));
const inputFile = join(out, 'standard-input.json');
const outputFile = join(out, 'standard-output.json');
writeFileSync(inputFile, JSON.stringify({shape: test.x.shape, data: Array.from(test.x.dataSync())}));
const loader = join(dirname(fileURLToPath(import.meta.url)), 'load_standard.mjs');
const child = spawnSync(process.execPath, [loader, standardDir, inputFile, outputFile], {encoding: 'utf8'});
if (child.status !== 0) {
  console.error(`error: plain tfjs could not load the exported model:\n${child.stderr}`);
  process.exit(1);
}
const plain = JSON.parse(readFileSync(outputFile, 'utf8'));
const exportMaxRelDiff = tf.tidy(() => {
  const want = spline.predict(test.x);
  return tf.max(tf.abs(tf.sub(want, tf.tensor(plain.data, plain.shape)))).dataSync()[0] /
    tf.max(tf.abs(want)).dataSync()[0];
});
console.log(`Exported to stock tfjs layers (${plain.classes.join(', ')}; ${standard.countParams()} ` +
  `parameters) in ${standardDir}, reloaded with plain tfjs: max relative difference of the ` +
  `predictions ${difference(exportMaxRelDiff)}`);

const summary = {
  model: original.name,
  source: opts.model ?? 'built-in small ReLU conv net',
  originalParams: original.countParams(),
  splineParams: spline.countParams(),
  splineLayers,
  conversionMaxDiff,
  epochs: opts.epochs,
  lambda: opts.lambda,
  history: {loss: history.history.loss, lipschitz: history.history.lipschitz,
    ...(history.history.acc ? {accuracy: history.history.acc} : {})},
  [loss === 'categoricalCrossentropy' ? 'testAccuracy' : 'testMse']: testMetric,
  lipschitzBound: lipschitzBound(loaded, {method: 'operator'}).bound,
  activeKnots: modelActiveKnots(loaded, 1e-3).total,
  reloadMaxDiff,
  loadedSplineLayers: loadedSplines,
  loadedRegularizer,
  trainSeconds,
  standardParams: standard.countParams(),
  standardClasses: plain.classes,
  exportMaxRelDiff,
  files: ['original/model.json', 'original/weights.bin', 'spline/model.json', 'spline/weights.bin',
    'standard/model.json', 'standard/weights.bin'],
};
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`Test ${summary.testAccuracy != null ? `accuracy ${(100 * testMetric).toFixed(1)}%` : `MSE ${testMetric.toExponential(3)}`}; ` +
  `operator Lipschitz bound ${summary.lipschitzBound.toPrecision(4)}; active knots ${summary.activeKnots}. ` +
  `Wrote summary.json to ${out} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
tf.dispose([train.x, train.y, test.x, test.y]);
[original, spline, loaded, standard].forEach((m) => m.dispose());
if (reloadMaxDiff !== 0 || !(conversionMaxDiff < 1e-5) || !(exportMaxRelDiff < 1e-5)) {
  console.error('error: the converted, reloaded or exported model does not reproduce the predictions');
  process.exit(1);
}
