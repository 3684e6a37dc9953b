#!/usr/bin/env node
/**
 * The paper's 2-D benchmark (Aziznejad, Gupta, Campos, Unser, IEEE TSP 2020): deep spline
 * networks beside ReLU, LeakyReLU and PReLU networks of the same shape on the "circle" and
 * "s_shape" datasets, and 1-Lipschitz ReLU, GroupSort and spline networks with their
 * certified accuracy, each trained on several seeds. Run `node examples/twod/index.mjs --help`.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {SplineActivation} from '@deepspline/layers';
import {DEFAULT_TRAINING_BJORCK_STEPS, certifiedAccuracy, lipschitzBound, modelActiveKnots,
  tv2ProximalOptimizer} from '@deepspline/lipschitz';
import {commandLine} from '../../scripts/cli.mjs';
import {HELP, PROX_LAMBDAS, PROX_REFIT, PROX_WARMUP, SPARSE_LAMBDAS, SPARSE_TOLERANCE, SWEEP_LAMBDAS, parseArgs} from './lib/cli.mjs';
import {makeDataset} from './lib/data.mjs';
import {MODELS, SPECTRAL, SPLINE, buildModel, isLipschitz, isProximal, isSpline} from './lib/models.mjs';
import {deriveSeed} from '../shared/prng.mjs';
import {progressBar} from '../shared/progress.mjs';
import {tfjsNoticeFirst} from '../shared/tfjs_notice.mjs';
import {accuracy, predict, trainModel} from './lib/train.mjs';
import {activationsSvg} from '../shared/svg.mjs';
import {certifiedSvg, decisionRegionSvg, sweepSvg} from './lib/svg.mjs';
import {COLUMNS} from './lib/report.mjs';
import {meanStd} from '../shared/stats.mjs';
import {markdownTable, textTable} from '../shared/tables.mjs';

const opts = commandLine(parseArgs, HELP);

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
        label: `channel ${n}: ${a[n].filter((v) => Math.abs(v) > threshold).length} knots`,
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

/** Which knots count as active at a threshold, in words. */
const knotRule = (threshold) => (threshold === 0 ? 'a_k != 0, exactly' : `|a_k| > ${threshold}`);

/** The radii of the certified-accuracy curves, 0 to 0.5 in steps of 0.01 (0.05 and 0.1 exact). */
const CURVE_RADII = Array.from({length: 51}, (_, k) => k / 100);
/** The radii of the table. */
const TABLE_RADII = [0.05, 0.1];

/** The epoch (0-based) at which the proximal solver's refit begins (PROX_REFIT of the epochs). */
const REFIT_EPOCH = Math.round(PROX_REFIT * opts.schedule.epochs);

/** The proximal solver's warm-up (PROX_WARMUP, in epochs) and refit in steps of the schedule. */
function proxSchedule(n) {
  const steps = Math.ceil(n / opts.schedule.batchSize);
  return {warmupSteps: PROX_WARMUP.warmup * steps, rampSteps: PROX_WARMUP.ramp * steps,
    refitAfterSteps: REFIT_EPOCH * steps};
}

/**
 * Trains and evaluates one model on one seed; returns its run record (and the certified
 * accuracy curve) and optionally writes its pictures.
 */
async function runOne(data, kind, seed, {lambda, tag, plots}) {
  const modelSeed = deriveSeed(seed, `${data.name}:${kind}`);
  const lip = isLipschitz(kind);
  const tau = lip ? opts.tau : undefined;
  const model = buildModel(kind, {seed: modelSeed, lambda, weightDecay: opts.weightDecay, splineInit: opts.splineInit});
  const train = opts.trainSize ? {x: data.train.x.slice(0, 2 * opts.trainSize), y: data.train.y.slice(0, opts.trainSize),
    n: Math.min(opts.trainSize, data.train.n)} : data.train;
  const label = `${data.name} ${tag ?? kind} seed ${seed}`.padEnd(36);
  const bar = progressBar(label, opts.schedule.epochs, {enabled: !opts.quiet});
  const t0 = process.hrtime.bigint();
  await trainModel(model, train, {
    ...opts.schedule, seed: deriveSeed(modelSeed, 'shuffle'), tau,
    wrapOptimizer: isProximal(kind) ? (adam) => tv2ProximalOptimizer(model, adam, {lambda, ...proxSchedule(train.n)}) :
      undefined,
    onEpoch: (epoch, loss) => bar.update(epoch, `loss ${loss.toFixed(4)}`),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const probs = predict(model, data.test, tau);
  const testAccuracy = accuracy(probs, data.test.y);
  const valAccuracy = accuracy(predict(model, data.val, tau), data.val.y);
  // Certified on the logit (certifiedAccuracy strips a final sigmoid), from its certified l2 bound.
  const cert = tf.tidy(() => certifiedAccuracy(model, tf.tensor2d(data.test.x, [data.test.n, 2]),
    tf.tensor1d(data.test.y), {epsilons: CURVE_RADII}));
  bar.done(`test acc ${(100 * testAccuracy).toFixed(2)}%`);
  const spline = isSpline(kind);
  const run = {
    seed,
    testAccuracy,
    valAccuracy,
    certifiedAccuracy: Object.fromEntries(TABLE_RADII.map((r) => [String(r), cert.accuracy[CURVE_RADII.indexOf(r)]])),
    lipschitzBound: finite(lip ? lipschitzBound(model).bound : cert.radii.bound),
    paperBound: spline ? finite(lipschitzBound(model, {method: 'paper'}).bound) : null,
    activeKnots: spline ? modelActiveKnots(model, opts.knotThreshold).total : null,
    exactActiveKnots: spline ? modelActiveKnots(model, 0).total : null,
    seconds: Math.round(seconds * 100) / 100,
  };
  if (plots) {
    const name = `${data.name}_${tag ?? kind}`;
    const title = `${data.name}: ${MODELS[kind]}${tag ? ` (${tag})` : ''}, seed ${seed}`;
    writeFileSync(join(out, `${name}_decision.svg`), decisionRegionSvg({
      probabilities: probs, side: data.test.side, dataset: data.name, accuracy: testAccuracy, title,
    }));
    const rows = activationRows(model, opts.knotThreshold);
    if (rows.length > 0) {
      writeFileSync(join(out, `${name}_activations.svg`), activationsSvg({
        title: `${data.name}: learned activations of ${MODELS[kind]}${tag ? ` (${tag})` : ''}, seed ${seed}`,
        note: spline ? `dots: knots; red = active (ReLU slope change ${knotRule(opts.knotThreshold)}); ` +
          'shaded: the spline grid [-1, 1]' : 'PReLU: the knot at 0',
        rows,
      }));
    }
  }
  // Trainable parameters (a spectral layer's power-iteration vector is a non-trainable weight).
  const params = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  model.dispose();
  return {run, params, curve: cert.accuracy};
}

/**
 * Trains one model on every seed; returns the summary row (mean +- std, and the runs). Pictures
 * (`plots`) are of the first seed.
 */
async function runSeeds(data, kind, {lambda, tag, plots}) {
  const runs = [];
  const curves = [];
  let params;
  for (const [i, seed] of opts.seedList.entries()) {
    const r = await runOne(data, kind, seed, {lambda, tag, plots: plots && i === 0});
    runs.push(r.run);
    curves.push(r.curve);
    params = r.params;
  }
  const stat = (get) => meanStd(runs.map(get));
  const spline = isSpline(kind);
  return {
    dataset: data.name,
    model: kind,
    seeds: opts.seedList,
    ...(isProximal(kind) ? {lambda} : {}),
    testAccuracy: stat((r) => r.testAccuracy),
    valAccuracy: stat((r) => r.valAccuracy),
    certifiedAccuracy: Object.fromEntries(TABLE_RADII.map((r) => [String(r), stat((run) => run.certifiedAccuracy[r])])),
    lipschitzBound: {...stat((r) => r.lipschitzBound), max: Math.max(...runs.map((r) => r.lipschitzBound ?? Infinity))},
    paperBound: stat((r) => r.paperBound),
    activeKnots: stat((r) => r.activeKnots),
    exactActiveKnots: spline ? {...stat((r) => r.exactActiveKnots), perSeed: runs.map((r) => r.exactActiveKnots)} : null,
    params,
    seconds: stat((r) => r.seconds),
    ...(isLipschitz(kind) ? {certifiedCurve: {epsilons: CURVE_RADII,
      accuracy: CURVE_RADII.map((_, j) => curves.reduce((a, c) => a + c[j], 0) / curves.length)}} : {}),
    runs,
  };
}

/**
 * The proximal spline net with lambda chosen on the validation split: the largest of
 * SPARSE_LAMBDAS whose mean validation accuracy is within SPARSE_TOLERANCE of the `spline`
 * row's (of the best of them when `spline` was not trained or none is); its pictures are
 * drawn by training its first seed again.
 */
async function chooseSparse(data, kind, rows) {
  const candidates = [];
  for (const lambda of SPARSE_LAMBDAS) {
    candidates.push(await runSeeds(data, kind, {lambda, tag: `${kind} lambda=${lambda}`, plots: false}));
  }
  const dense = rows.find((r) => r.dataset === data.name && r.model === 'spline');
  const best = Math.max(...candidates.map((r) => r.valAccuracy.mean));
  const floor = (dense ? dense.valAccuracy.mean : best) - SPARSE_TOLERANCE;
  const ok = candidates.filter((r) => r.valAccuracy.mean >= floor);
  const chosen = ok.length > 0 ? ok[ok.length - 1] : candidates.find((r) => r.valAccuracy.mean === best);
  if (opts.plots) await runOne(data, kind, opts.seedList[0], {lambda: chosen.lambda, plots: true});
  return {...chosen, selection: candidates.map((r) => ({lambda: r.lambda, valAccuracy: r.valAccuracy.mean,
    exactActiveKnots: r.exactActiveKnots.mean}))};
}

const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
const kernels = await setupBackend(opts.backend);
tfjsNoticeFirst();
const s = opts.schedule;
const lipModels = opts.models.filter(isLipschitz);
const header = [
  `Deep splines on the 2-D benchmark`,
  `Backend: ${tf.getBackend()}, spline kernels: ${kernels}`,
  `Schedule: ${s.name}: ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.lr}, ` +
    `milestones ${s.milestones.join('/')} x${s.gamma}; weight decay ${opts.weightDecay}` +
    (opts.trainSize ? `; first ${opts.trainSize} training points only` : ''),
  `Seeds: ${opts.seedList.join(', ')} (mean ± sample std over the seeds; data from seed ${opts.seed}); ` +
    `init: PyTorch's nn.Linear default (weights and biases uniform in ±1/sqrt(fan_in))`,
  `Splines: size ${SPLINE.size}, range ${SPLINE.range}, init ${SPLINE.init}, TV(2) lambda ` +
    (opts.sweep ? `${SWEEP_LAMBDAS.join('/')} (subgradient: in the loss), ${PROX_LAMBDAS.join('/')} (proximal: tv2ProximalOptimizer, ` +
      `${PROX_WARMUP.warmup} epochs without the penalty, then lambda rising over ${PROX_WARMUP.ramp}, refit from epoch ${REFIT_EPOCH})` :
      `${opts.lambda}` + (opts.models.some(isProximal) ? `; spline_sparse: tv2ProximalOptimizer (${PROX_WARMUP.warmup} epochs ` +
      `without the penalty, then lambda rising over ${PROX_WARMUP.ramp}, refit from epoch ${REFIT_EPOCH}), lambda in ${SPARSE_LAMBDAS.join('/')} ` +
      `chosen on the validation split (the largest within ${100 * SPARSE_TOLERANCE} point of spline's validation accuracy)` : '')) +
    `; active knots: ${knotRule(opts.knotThreshold)}`,
  ...(opts.sweep || lipModels.length === 0 ? [] : [`1-Lipschitz nets: spectralDense (orthonormalize ` +
    `${SPECTRAL.orthonormalize}: ${SPECTRAL.bjorckSteps} steps at the first training step and at inference, ` +
    `${DEFAULT_TRAINING_BJORCK_STEPS} per later step), linear logit, tauBinaryCrossentropy tau ${opts.tau}; ` +
    `spline_lip1: maxSlope 1, init ${opts.splineInit}`]),
];
console.log(header.join('\n') + '\n');

const NOTE = 'Test accuracy on the 200 x 200 grid of cell centres. Certified: the share of test points ' +
  'classified correctly with a certified l2 radius >= r (|logit| / certified bound). Lipschitz bounds of the ' +
  'logit (before the output sigmoid) in the l2 norm: "certified" is the operator-norm bound of ' +
  '`lipschitzBound`, "paper" the reference\'s (prod max|W| x prod sum BV(2)), spline networks only. ' +
  `Active knots (${knotRule(opts.knotThreshold)}) of the 8 splines, of 152; seconds: training time per seed.`;

const SWEEP_NOTE = 'Test accuracy on the 200 x 200 grid of cell centres. Solvers: "subgradient" adds ' +
  'tv2Regularizer({lambda}) to the loss (the reference\'s way, Adam minimizes it); "proximal" trains without it ' +
  'and trains the splines by tv2ProximalOptimizer({lambda}) (Adam on the coefficients, then every ReLU slope ' +
  'soft-thresholded by lambda times the diagonal of Adam\'s metric seen from the slopes, the linear part of the ' +
  'change chosen in the same metric; exact zeros), without the penalty for the first ' +
  `${PROX_WARMUP.warmup} epochs, then with lambda rising linearly over ${PROX_WARMUP.ramp} epochs; from epoch ` +
  `${REFIT_EPOCH} (0-based) on, a refit: the knots that are 0 then stay 0, the others are trained without the ` +
  'penalty (refitAfterSteps). ' +
  'Lip. bound: the certified operator-norm bound of the logit in the l2 norm. Exact active knots: the ReLU slopes ' +
  'a_k != 0 (exactly) of the 8 splines, of 152, mean ± std and per seed.';

const started = Date.now();
if (!opts.sweep) {
  const rows = [];
  for (const name of opts.datasets) {
    const data = makeDataset(name, opts.seed);
    for (const kind of opts.models) {
      rows.push(isProximal(kind) ? await chooseSparse(data, kind, rows) :
        await runSeeds(data, kind, {lambda: opts.lambda, plots: opts.plots}));
    }
  }
  const total = (Date.now() - started) / 1000;
  console.log('\n' + textTable(rows, COLUMNS) + `\n\nTotal ${total.toFixed(1)} s.`);
  writeFileSync(join(out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
  const chosen = rows.filter((r) => isProximal(r.model)).map((r) => `${r.dataset} ${r.lambda}`);
  const note = NOTE + (chosen.length > 0 ? ` spline_sparse's lambda (validation): ${chosen.join(', ')}.` : '');
  writeFileSync(join(out, 'results.md'), `# Deep splines on the 2-D benchmark\n\n` +
    header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable(rows, COLUMNS) + `\n\n${note}\n`);
  if (opts.plots && lipModels.length > 0) {
    writeFileSync(join(out, 'certified.svg'), certifiedSvg({
      title: 'Certified accuracy of the 1-Lipschitz networks on the test grid',
      note: `mean over seeds ${opts.seedList.join(', ')}; at r = 0 the test accuracy`,
      panels: opts.datasets.map((dataset) => ({dataset, curves: rows.filter((r) => r.dataset === dataset &&
        r.certifiedCurve).map((r) => ({label: r.model, ...r.certifiedCurve}))})),
    }));
  }
  console.log(`Wrote results.json, results.md${opts.plots ? ' and SVG pictures' : ''} to ${out}`);
} else {
  const series = [];
  const rows = [];
  const solvers = [{solver: 'subgradient', kind: 'spline', lambdas: SWEEP_LAMBDAS},
    {solver: 'proximal', kind: 'spline_sparse', lambdas: PROX_LAMBDAS}];
  for (const name of opts.datasets) {
    const data = makeDataset(name, opts.seed);
    for (const {solver, kind, lambdas} of solvers) {
      const points = [];
      for (const lambda of lambdas) {
        const row = {solver, lambda, ...await runSeeds(data, kind, {lambda, tag: `${solver} lambda=${lambda}`, plots: false})};
        rows.push(row);
        points.push({lambda, testAccuracy: row.testAccuracy.mean, activeKnots: row.exactActiveKnots.mean,
          lipschitzBound: row.lipschitzBound.mean});
      }
      series.push({label: `${name}, ${solver}`, dashed: solver === 'subgradient', points});
    }
  }
  const exact = (r) => `${r.exactActiveKnots.mean.toFixed(1)} ± ${(r.exactActiveKnots.std ?? 0).toFixed(1)} ` +
    `(${r.exactActiveKnots.perSeed.join(', ')})`;
  const cols = [COLUMNS[0], {head: 'solver', get: (r) => r.solver}, {head: 'lambda', get: (r) => String(r.lambda)},
    COLUMNS[2], COLUMNS[5], {head: 'exact active knots (per seed)', get: exact, right: true}, COLUMNS[9]];
  console.log('\n' + textTable(rows, cols) + `\n\nTotal ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  writeFileSync(join(out, 'sweep.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(out, 'sweep.md'), `# TV(2) trade-off sweep: subgradient and proximal solvers\n\n` +
    header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable(rows, cols) + `\n\n${SWEEP_NOTE}\n`);
  if (opts.plots) {
    writeFileSync(join(out, 'sweep.svg'), sweepSvg({
      title: 'Deep spline 2-4-4-1 against lambda, both TV(2) solvers (mean over the seeds)', series}));
  }
  console.log(`Wrote sweep.json, sweep.md${opts.plots ? ', sweep.svg' : ''} to ${out}`);
}
