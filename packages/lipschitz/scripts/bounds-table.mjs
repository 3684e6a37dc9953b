#!/usr/bin/env node
// Prints, for one small deep spline network (the paper's 2-D benchmark shape, briefly trained
// on the "circle" task with TV(2)), its Lipschitz bound by each method and norm beside the
// empirical estimate (largest input-Jacobian norm over 2000 random points of [-1, 1]^2);
// then the same for the model trained with the constrain callback (target 1, norm 2).
// Run after `npm run build`:  node packages/lipschitz/scripts/bounds-table.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {empiricalLipschitz, lipschitzBound, lipschitzCallback, modelActiveKnots, tv2Regularizer} from '@deepspline/lipschitz';

await tf.setBackend('cpu');
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

const spline = () => splineActivation({size: 21, range: 1, init: 'leaky_relu',
  coefficientsRegularizer: tv2Regularizer({lambda: 1e-5})});
const makeModel = () => tfl.sequential({layers: [
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
const probe = tf.tensor2d(Array.from({length: 2000}, () => [2 * rand() - 1, 2 * rand() - 1]));
const epochs = Number(process.env.EPOCHS ?? 30);
const fmt = (v) => v.toPrecision(5);

async function report(title, callbacks) {
  const model = makeModel();
  model.compile({optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError'});
  const h = await model.fit(xs, ys, {epochs, batchSize: 50, verbose: 0, shuffle: false, callbacks});  // deterministic
  console.log(`${title}: ${epochs} epochs Adam lr 1e-2 on "circle", final loss ` +
    `${fmt(h.history.loss.at(-1))}, ${modelActiveKnots(model, 1e-3).total} active knots (|a_k| > 1e-3)`);
  console.log('');
  console.log('| norm | operator bound | paper bound (reference) | empirical (2000 points) | empirical / operator |');
  console.log('|---|---|---|---|---|');
  for (const norm of [1, 2, Infinity]) {
    const operator = lipschitzBound(model, {norm}).bound;
    const paper = lipschitzBound(model, {norm, method: 'paper'}).bound;
    const empirical = empiricalLipschitz(model, probe, {norm}).value;
    console.log(`| ${norm} | ${fmt(operator)} | ${fmt(paper)} | ${fmt(empirical)} | ${fmt(empirical / operator)} |`);
  }
  console.log('');
  console.log('Per-layer factors (operator, norm 2):');
  for (const l of lipschitzBound(model, {norm: 2}).layers) {
    console.log(`  ${l.name.padEnd(40)} ${l.className.padEnd(18)} ${fmt(l.factor)}`);
  }
  console.log('');
  model.dispose();
}

console.log('Model: dense(2->4, no bias) - spline(21, range 1) - dense(4->4) - spline - dense(4->1), ' +
  'TV(2) lambda 1e-5 (the paper\'s 2-D benchmark shape). The paper bound does not depend on the norm.');
console.log('');
await report('Unconstrained', []);
await report('Constrained (lipschitzCallback mode constrain, target 1, norm 2)',
  [lipschitzCallback({mode: 'constrain', target: 1})]);
tf.dispose([xs, ys, probe]);
