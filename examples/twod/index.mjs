#!/usr/bin/env node
/**
 * The paper's 2-D benchmark (Aziznejad, Gupta, Campos, Unser, IEEE TSP 2020): deep spline
 * networks beside ReLU, LeakyReLU and PReLU networks of the same shape on the "circle" and
 * "s_shape" datasets. Run `node examples/twod/index.mjs --help`.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {SplineActivation} from '@deepspline/layers';
import {activeKnots, lipschitzBound, lipschitzCallback, tv2} from '@deepspline/lipschitz';
import {HELP, SWEEP_LAMBDAS, parseArgs} from './lib/cli.mjs';
import {makeDataset} from './lib/data.mjs';
import {MODELS, buildModel, isSpline} from './lib/models.mjs';
import {deriveSeed} from './lib/prng.mjs';
import {progressBar} from './lib/progress.mjs';
import {accuracy, predict, trainModel} from './lib/train.mjs';
import {activationsSvg, decisionRegionSvg, sweepSvg} from './lib/svg.mjs';
import {markdownTable, textTable} from './lib/report.mjs';

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

/** Selects the backend; for wasm, registers the @deepspline/wasm kernels when available. */
async function setupBackend(name) {
  let kernels = 'cpu kernels of @deepspline/core';
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    try {
      const wasm = await import('@deepspline/wasm');
      if (typeof wasm.ready === 'function') await wasm.ready();
      kernels = '@deepspline/wasm kernels';
    } catch (e) {
      kernels = `composite fallback (@deepspline/wasm not available: ${String(e?.message ?? e).split('\n')[0]})`;
    }
  }
  if (!(await tf.setBackend(name))) throw new Error(`could not initialize the ${name} backend`);
  await tf.ready();
  return kernels;
}

/** Every learned activation of a model as plot panels (spline layers and PReLU). */
function activationRows(model, threshold) {
  const rows = [];
  for (const layer of model.layers) {
    if (layer instanceof SplineActivation) {
      const {x, y} = layer.curves(161, 2);
      const xs = Array.from(x.dataSync());
      const ys = y.arraySync();
      const coeffs = layer.effectiveCoefficients();
      const slopes = layer.reluSlopes();
      const c = coeffs.arraySync();
      const a = slopes.arraySync();
      const knots = Array.from(layer.knots().dataSync());
      [x, y, coeffs, slopes].forEach((t) => t.dispose());
      rows.push({label: layer.name, panels: ys.map((curve, n) => ({
        label: `channel ${n}: ${a[n].filter((v) => Math.abs(v) > threshold).length} active`,
        x: xs, y: curve, range: layer.grid.range,
        knots: knots.map((t, k) => ({x: t, y: c[n][k], active: k > 0 && k < knots.length - 1 &&
          Math.abs(a[n][k - 1]) > threshold})),
      }))});
    } else if (layer.getClassName() === 'PReLU') {
      const alpha = Array.from(layer.getWeights()[0].dataSync());
      const xs = [-1.2, 0, 1.2];
      rows.push({label: layer.name, panels: alpha.map((al, n) => ({
        label: `channel ${n}: alpha ${al.toFixed(3)}`, x: xs, y: xs.map((v) => (v >= 0 ? v : al * v)),
        knots: [{x: 0, y: 0, active: true}],
      }))});
    }
  }
  return rows;
}

const finite = (v) => (Number.isFinite(v) ? v : null);

/** Trains and evaluates one model; returns its results row and (optionally) writes pictures. */
async function runOne(data, kind, {lambda, tag, plots}) {
  const seed = deriveSeed(opts.seed, `${data.name}:${kind}`);
  const model = buildModel(kind, {seed, lambda, weightDecay: opts.weightDecay, makeTv2: (l) => tv2({lambda: l})});
  const callbacks = kind === 'spline_lip1' ? [lipschitzCallback({mode: 'constrain', target: opts.target})] : [];
  const train = opts.trainSize ? {x: data.train.x.slice(0, 2 * opts.trainSize), y: data.train.y.slice(0, opts.trainSize),
    n: Math.min(opts.trainSize, data.train.n)} : data.train;
  const label = `${data.name} ${tag ?? kind}`.padEnd(28);
  const bar = progressBar(label, opts.schedule.epochs, {enabled: !opts.quiet});
  const t0 = process.hrtime.bigint();
  await trainModel(model, train, {
    ...opts.schedule, seed: deriveSeed(seed, 'shuffle'), callbacks,
    onEpoch: (epoch, loss) => bar.update(epoch, `loss ${loss.toFixed(4)}`),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const probs = predict(model, data.test);
  const testAccuracy = accuracy(probs, data.test.y);
  const valAccuracy = accuracy(predict(model, data.val), data.val.y);
  bar.done(`test acc ${(100 * testAccuracy).toFixed(2)}%`);
  const spline = isSpline(kind);
  const row = {
    dataset: data.name,
    model: kind,
    testAccuracy,
    lipschitzBound: finite(lipschitzBound(model, {norm: 2, method: 'operator'}).bound),
    paperBound: spline ? finite(lipschitzBound(model, {norm: 2, method: 'paper'}).bound) : null,
    activeKnots: spline ? activeKnots(model, opts.knotThreshold).total : null,
    params: model.countParams(),
    seconds: Math.round(seconds * 100) / 100,
  };
  if (plots) {
    const name = `${data.name}_${tag ?? kind}`;
    writeFileSync(join(out, `${name}_decision.svg`), decisionRegionSvg({
      probabilities: probs, side: data.test.side, dataset: data.name, accuracy: testAccuracy,
      title: `${data.name}: ${MODELS[kind]}${tag ? ` (${tag})` : ''}`,
    }));
    const rows = activationRows(model, opts.knotThreshold);
    if (rows.length > 0) {
      writeFileSync(join(out, `${name}_activations.svg`), activationsSvg({
        title: `${data.name}: learned activations of ${MODELS[kind]}${tag ? ` (${tag})` : ''}`,
        note: spline ? `dots: knots; red = active (|ReLU slope change| > ${opts.knotThreshold}); ` +
          'shaded: the spline grid [-1, 1]' : 'PReLU: the knot at 0',
        rows,
      }));
    }
  }
  model.dispose();
  return {row, valAccuracy};
}

const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
const kernels = await setupBackend(opts.backend);
const s = opts.schedule;
const header = [
  `Deep splines on the 2-D benchmark`,
  `Backend: ${tf.getBackend()}, spline kernels: ${kernels}`,
  `Schedule: ${s.name}: ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.lr}, ` +
    `milestones ${s.milestones.join('/')} x${s.gamma}; weight decay ${opts.weightDecay}; seed ${opts.seed}` +
    (opts.trainSize ? `; first ${opts.trainSize} training points only` : ''),
  `Splines: size 21, range 1, init leaky_relu, TV(2) lambda ${opts.sweep ? SWEEP_LAMBDAS.join('/') : opts.lambda}; ` +
    (opts.sweep ? '' : `constrained net: Lipschitz target ${opts.target}; `) +
    `active knots: |a_k| > ${opts.knotThreshold}`,
];
console.log(header.join('\n') + '\n');

const started = Date.now();
if (!opts.sweep) {
  const rows = [];
  for (const name of opts.datasets) {
    const data = makeDataset(name, opts.seed);
    for (const kind of opts.models) {
      const {row} = await runOne(data, kind, {lambda: opts.lambda, plots: opts.plots});
      rows.push(row);
    }
  }
  const total = (Date.now() - started) / 1000;
  console.log('\n' + textTable(rows) + `\n\nTotal ${total.toFixed(1)} s.`);
  writeFileSync(join(out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(out, 'results.md'), `# Deep splines on the 2-D benchmark\n\n` +
    header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable(rows) +
    `\n\nTest accuracy on the 200 x 200 grid of cell centres; Lipschitz bounds of the whole network ` +
    `(sigmoid output included) in the l2 norm; "paper" is the reference's bound ` +
    `(prod max|W| x prod sum BV(2)), only defined for spline networks; seconds = training time.\n`);
  console.log(`Wrote results.json, results.md${opts.plots ? ' and SVG pictures' : ''} to ${out}`);
} else {
  const series = [];
  const rows = [];
  for (const name of opts.datasets) {
    const data = makeDataset(name, opts.seed);
    const points = [];
    for (const lambda of SWEEP_LAMBDAS) {
      const {row} = await runOne(data, 'spline', {lambda, tag: `lambda=${lambda}`, plots: false});
      const point = {lambda, ...row};
      points.push(point);
      rows.push(point);
    }
    series.push({dataset: name, points});
  }
  const columns = [{head: 'lambda', get: (r) => String(r.lambda)}];
  const {COLUMNS} = await import('./lib/report.mjs');
  const cols = [COLUMNS[0], ...columns, ...COLUMNS.slice(2)];
  console.log('\n' + textTable(rows, cols) + `\n\nTotal ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  writeFileSync(join(out, 'sweep.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(out, 'sweep.md'), `# TV(2) trade-off sweep\n\n` + header.slice(1).map((h) => `- ${h}`).join('\n') +
    `\n\n` + markdownTable(rows, cols) + '\n');
  if (opts.plots) {
    writeFileSync(join(out, 'sweep.svg'), sweepSvg({
      title: 'Deep spline 2-4-4-1: accuracy, sparsity and Lipschitz bound against lambda', series}));
  }
  console.log(`Wrote sweep.json, sweep.md${opts.plots ? ', sweep.svg' : ''} to ${out}`);
}
