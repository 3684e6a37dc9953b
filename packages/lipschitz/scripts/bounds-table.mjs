#!/usr/bin/env node
// Prints, for one small deep spline network (the paper's 2-D benchmark shape, briefly trained
// on the "circle" task with TV(2)), its Lipschitz bound by each method and norm beside the
// empirical estimate (largest input-Jacobian norm over 2000 random points of [-1, 1]^2).
// Run after `npm run build`:  node packages/lipschitz/scripts/bounds-table.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {activeKnots, empiricalLipschitz, lipschitzBound, tv2} from '@deepspline/lipschitz';

await tf.setBackend('cpu');
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

const spline = () => splineActivation({size: 21, range: 1, init: 'leaky_relu',
  coefficientsRegularizer: tv2({lambda: 1e-5})});
const model = tfl.sequential({layers: [
  tfl.layers.dense({units: 4, inputShape: [2], useBias: false,
    kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
  spline(),
  tfl.layers.dense({units: 4, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
  spline(),
  tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}),
]});
const n = 1500;
const pts = Array.from({length: n}, () => [2 * rand() - 1, 2 * rand() - 1]);
const labels = pts.map(([a, b]) => [a * a + b * b < 2 / Math.PI ? 1 : 0]);
const xs = tf.tensor2d(pts);
const ys = tf.tensor2d(labels);
model.compile({optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError'});
const epochs = Number(process.env.EPOCHS ?? 30);
const h = await model.fit(xs, ys, {epochs, batchSize: 50, verbose: 0});

const probe = tf.tensor2d(Array.from({length: 2000}, () => [2 * rand() - 1, 2 * rand() - 1]));
const rows = [];
for (const norm of [1, 2, Infinity]) {
  rows.push({
    norm: String(norm),
    operator: lipschitzBound(model, {norm}).bound,
    paper: lipschitzBound(model, {norm, method: 'paper'}).bound,
    empirical: empiricalLipschitz(model, probe, {norm}).value,
  });
}
const fmt = (v) => v.toPrecision(5);
console.log(`Model: dense(2->4, no bias) - spline(21, range 1) - dense(4->4) - spline - dense(4->1), ` +
  `TV(2) lambda 1e-5, ${epochs} epochs Adam on "circle" (final loss ${fmt(h.history.loss.at(-1))}), ` +
  `${activeKnots(model, 1e-3).total} active knots (|a_k| > 1e-3)`);
console.log('');
console.log('| norm | operator bound | paper bound (reference, norm-independent) | empirical (2000 points) | empirical / operator |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.norm} | ${fmt(r.operator)} | ${fmt(r.paper)} | ${fmt(r.empirical)} | ${fmt(r.empirical / r.operator)} |`);
}
console.log('');
console.log('Per-layer factors (operator, norm 2):');
for (const l of lipschitzBound(model, {norm: 2}).layers) console.log(`  ${l.name.padEnd(40)} ${l.className.padEnd(18)} ${fmt(l.factor)}`);
tf.dispose([xs, ys, probe]);
