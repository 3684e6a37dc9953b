// exportToStandardLayers on the examples' trained models: the five committed MNIST nets
// (dense, splines, GroupSort) and a twod-shaped 1-Lipschitz spline net trained here.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {exportToStandardLayers, splineActivation} from '@deepspline/layers';
import {losses, spectralDense} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

const root = join(__dirname, '../../..');

async function loadSaved(dir: string): Promise<tfl.LayersModel> {
  const topology = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: topology.modelTopology,
    weightSpecs: topology.weightsManifest.flatMap((g: {weights: unknown[]}) => g.weights),
    weightData,
  }));
}

function relativeGap(a: tfl.LayersModel, b: tfl.LayersModel, x: Tensor): number {
  return tf.tidy(() => {
    const ya = a.predict(x) as Tensor;
    const yb = b.predict(x) as Tensor;
    return tf.div(tf.max(tf.abs(tf.sub(ya, yb))), tf.max(tf.abs(ya))).dataSync()[0]!;
  });
}

test.each(['relu', 'spline', 'relu_lip1', 'groupsort_lip1', 'spline_lip1', 'spline_lip1_sparse'])(
  'the committed MNIST %s model exports to 1e-5 of its output scale (pixels, and far outside)', async (name) => {
    const model = await loadSaved(join(root, 'examples/mnist/reference/models', name));
    const standard = exportToStandardLayers(model);
    const r = rng(5);
    const pixels = tf.tensor2d(Array.from({length: 16 * 784}, () => r()), [16, 784]);
    const far = tf.tensor2d(Array.from({length: 4 * 784}, () => 200 * (2 * r() - 1)), [4, 784]);
    expect(relativeGap(model, standard, pixels)).toBeLessThan(1e-5);
    expect(relativeGap(model, standard, far)).toBeLessThan(1e-5);
    tf.dispose([pixels, far]);
    model.dispose();
    standard.dispose();
  });

test('a twod-shaped 1-Lipschitz spline net, trained, exports to 1e-5', async () => {
  const model = tfl.sequential({layers: [
    spectralDense({units: 4, inputShape: [2], useBias: false, orthonormalize: 'bjorck'}),
    splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs'}),
    spectralDense({units: 4, orthonormalize: 'bjorck'}),
    splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs'}),
    spectralDense({units: 1, orthonormalize: 'bjorck'}),
  ]});
  model.compile({optimizer: tf.train.adam(1e-2), loss: losses.tauBinaryCrossentropy({tau: 32})});
  const xs = tf.randomUniform([200, 2], -1, 1, 'float32', 1);
  const ys = tf.tidy(() => tf.cast(tf.less(tf.sum(tf.square(xs), 1, true), 2 / Math.PI), 'float32'));
  await model.fit(xs, ys, {epochs: 5, batchSize: 20, verbose: 0});
  const standard = exportToStandardLayers(model);
  const grid = tf.randomUniform([500, 2], -1.5, 1.5, 'float32', 2);
  const far = tf.randomUniform([50, 2], -1e4, 1e4, 'float32', 3);
  expect(relativeGap(model, standard, grid)).toBeLessThan(1e-5);
  expect(relativeGap(model, standard, far)).toBeLessThan(1e-5);
  tf.dispose([xs, ys, grid, far]);
  model.dispose();
  standard.dispose();
});
