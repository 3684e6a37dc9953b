/**
 * Every convolution and pooling layer is bounded on the wasm backend (which has no
 * DepthwiseConv2dNativeBackpropInput kernel, so the adjoint of a depthwise convolution by
 * autodiff fails there): the same factors as on cpu, checked against the explicit map, and
 * nothing leaked.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import type {Tensor} from '@tensorflow/tfjs-core';
import {lipschitzBound, tensorOpNorm} from '@deepspline/lipschitz';
import type {Norm} from '@deepspline/lipschitz';
import {explicitMatrix, rng, rowColSums, spectralNormSvd, useCpu} from './helpers.js';

afterAll(useCpu);

const cases: {name: string, make: () => tfl.layers.Layer, inShape: number[]}[] = [
  {name: 'depthwise', make: () => tfl.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, strides: 2,
    padding: 'same', useBias: false}), inShape: [9, 8, 3]},
  {name: 'separable', make: () => tfl.layers.separableConv2d({filters: 4, kernelSize: 3, dilationRate: 2,
    padding: 'same', useBias: false}), inShape: [8, 8, 2]},
  {name: 'conv2d', make: () => tfl.layers.conv2d({filters: 3, kernelSize: [3, 2], strides: [1, 2], useBias: false}),
    inShape: [8, 7, 2]},
  {name: 'conv1d', make: () => tfl.layers.conv1d({filters: 3, kernelSize: 3, padding: 'same', useBias: false}),
    inShape: [12, 2]},
  {name: 'avgpool2d', make: () => tfl.layers.averagePooling2d({poolSize: 3, strides: 2, padding: 'same'}),
    inShape: [7, 8, 2]},
  {name: 'avgpool1d', make: () => tfl.layers.averagePooling1d({poolSize: 3, strides: 2}), inShape: [9, 2]},
];

/** Bounds at norms 1, 2 (explicit matrix and matrix-free) and Infinity, with the tensors left behind. */
function bounds(model: tfl.LayersModel) {
  const before = tf.memory().numTensors;
  const out = {
    one: lipschitzBound(model, {norm: 1}).bound,
    two: lipschitzBound(model, {norm: 2}).bound,
    twoFree: lipschitzBound(model, {norm: 2, powerIteration: {explicitLimit: 0}}).bound,
    inf: lipschitzBound(model, {norm: Infinity}).bound,
  };
  return {...out, leaked: tf.memory().numTensors - before};
}

describe('convolution and pooling bounds on wasm', () => {
  test.each(cases)('$name: the cpu factors, >= the explicit map, no leak', async ({make, inShape}) => {
    await useCpu();
    const r = rng(7);
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: inShape}), make()]});
    for (const layer of model.layers) {
      const ws = layer.getWeights().map((w) => tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape));
      layer.setWeights(ws);
      tf.dispose(ws);
    }
    const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, inShape);
    const svd = spectralNormSvd(m, rows, cols);
    const {one, inf} = rowColSums(m, rows, cols);
    const cpu = bounds(model);
    expect(await tf.setBackend('wasm')).toBe(true);
    const wasm = bounds(model);
    expect(wasm.leaked).toBe(0);
    expect(wasm.one).toBeCloseTo(cpu.one, 12);
    expect(wasm.inf).toBeCloseTo(cpu.inf, 12);
    expect(Math.abs(wasm.two / cpu.two - 1)).toBeLessThan(1e-6);
    expect(Math.abs(wasm.twoFree / cpu.twoFree - 1)).toBeLessThan(1e-6);
    // the explicit map (float32 entries; separable 1 / Inf factors are |P||D| >= |PD|)
    expect(wasm.one).toBeGreaterThanOrEqual(one * (1 - 1e-6));
    expect(wasm.inf).toBeGreaterThanOrEqual(inf * (1 - 1e-6));
    expect(wasm.two).toBeGreaterThanOrEqual(svd * (1 - 1e-6));
    expect(Math.abs(wasm.two / svd - 1)).toBeLessThan(1e-6);
    // matrix-free: the kernel's Fourier symbol, a proven bound (loose on these small inputs)
    expect(wasm.twoFree).toBeGreaterThanOrEqual(svd * (1 - 1e-6));
    expect(wasm.twoFree / svd).toBeLessThan(1.3);
    model.dispose();
  });

  test('a tensor operator whose adjoint fails on wasm: the error, and nothing leaked', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const k = tf.randomNormal([3, 3, 2, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const apply = (x: Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, k, 1, 'same');
    const op = {inShape: [6, 6, 2], apply, applyAbs: apply};
    for (const norm of [1, 2] as Norm[]) {
      const before = tf.memory().numTensors;
      expect(() => tensorOpNorm(op, norm, {explicitLimit: 0})).toThrow(/DepthwiseConv2dNativeBackpropInput/);
      expect(tf.memory().numTensors).toBe(before);
    }
    k.dispose();
  });
});
