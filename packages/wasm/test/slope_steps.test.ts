/**
 * The slope operations of @deepspline/core on the wasm backend at the channel counts of real
 * layers: the prox's soft threshold gives the cpu backend's result bit for bit, slope clipping
 * the same within the rounding of each spline's mean. tfjs-backend-wasm 4.22's GatherV2 with batchDims > 0 returns wrong values for a
 * few rows and reads out of bounds for 32 or more (a RuntimeError): the soft threshold used
 * it, so the proximal TV(2) solver crashed on wasm for any layer of 32+ channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import {clipSlopes, softThresholdSlopes} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {tv2ProximalOptimizer} from '@deepspline/lipschitz';
import {rng} from '@deepspline/testing';
import {useWasm} from './helpers';

function coefficients(C: number, K: number, seed: number): Float32Array {
  const r = rng(seed);
  const c = new Float32Array(C * K);
  // Mostly straight splines with a few kinks: the threshold removes some knots, keeps others.
  for (let i = 0; i < C; ++i) {
    for (let k = 0; k < K; ++k) c[i * K + k] = 0.1 * k + (r() < 0.3 ? r() - 0.5 : 0.01 * (r() - 0.5));
  }
  return c;
}

async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  if (backend === 'wasm') await useWasm();
  else await tf.setBackend('cpu');
  const t = f();
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

afterAll(() => tf.setBackend('cpu'));

test.each([1, 4, 31, 64, 256])('softThresholdSlopes: wasm = cpu bit for bit; clipSlopes: within its rounding, %i channels', async (C) => {
  const K = 21;
  const c = coefficients(C, K, C);
  const thresholds = Float32Array.from(coefficients(C, K - 2, 7 * C), (v) => Math.abs(v) * 0.2);
  const ops: Array<[string, () => tf.Tensor]> = [
    ['threshold', () => tf.tidy(() => softThresholdSlopes(tf.tensor2d(c, [C, K]), 0.1, 0.02))],
    ['per-knot', () => tf.tidy(() => softThresholdSlopes(tf.tensor2d(c, [C, K]), 0.1, tf.tensor2d(thresholds, [C, K - 2])))],
    ['clip', () => tf.tidy(() => clipSlopes(tf.tensor2d(c, [C, K]), 0.1, 0.5))],
  ];
  for (const [name, f] of ops) {
    const cpu = await on('cpu', f);
    const before = tf.memory().numTensors;
    const wasm = await on('wasm', f);
    expect(tf.memory().numTensors).toBe(before);
    if (name !== 'clip') {
      expect({name, C, same: Buffer.from(wasm.buffer).equals(Buffer.from(cpu.buffer))}).toEqual({name, C, same: true});
    } else {
      // clipSlopes keeps each spline's mean, computed by each backend's own reduction: the
      // results may differ by the rounding of that mean (a few 2^-22 of the largest value).
      let worst = 0;
      for (let i = 0; i < cpu.length; ++i) worst = Math.max(worst, Math.abs(cpu[i]! - wasm[i]!));
      expect(worst).toBeLessThan(2 ** -18);
    }
  }
});

test('tv2ProximalOptimizer trains a 256-channel spline layer on wasm (as on cpu)', async () => {
  const fit = async (backend: string) => {
    if (backend === 'wasm') await useWasm();
    else await tf.setBackend('cpu');
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 256, inputShape: [8], kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      splineActivation({size: 21, range: 1, init: 'abs', maxSlope: 1}),
      tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ]});
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(1e-2), {lambda: 1e-3});
    model.compile({optimizer, loss: 'meanSquaredError'});
    const r = rng(5);
    const x = tf.tensor2d(Float32Array.from({length: 64 * 8}, () => r() - 0.5), [64, 8]);
    const y = tf.tensor2d(Float32Array.from({length: 64}, () => r() - 0.5), [64, 1]);
    await model.fit(x, y, {epochs: 3, batchSize: 16, shuffle: false, verbose: 0});
    const c = (model.layers[1]!.getWeights()[0]!.dataSync() as Float32Array).slice();
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
    return c;
  };
  const cpu = await fit('cpu');
  const wasm = await fit('wasm');
  // The same training on both backends: the matMuls round differently, so close, not equal.
  let worst = 0;
  for (let i = 0; i < cpu.length; ++i) worst = Math.max(worst, Math.abs(cpu[i]! - wasm[i]!));
  expect(worst).toBeLessThan(1e-3);
});
