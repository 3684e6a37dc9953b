/**
 * The SplineActivation layer on every backend Node runs (cpu, wasm with @deepspline/wasm):
 * a serialization round trip on each, and the same model giving the same bits on both (the
 * wasm kernels perform the cpu kernel's float64 operations), forward and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineImplementation} from '@deepspline/core';
import {splineActivation} from '@deepspline/layers';
import {ready} from '@deepspline/wasm';
import {rng} from '@deepspline/testing';

const BACKENDS = ['cpu', 'wasm'] as const;

async function use(backend: string): Promise<void> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`could not initialize the ${backend} backend`);
  }
  if (backend === 'wasm') await ready();
  expect(splineImplementation()).toBe('kernel');
}

afterAll(() => tf.setBackend('cpu'));

/** Spline layers only (dense layers would differ by their backends' matmul order). */
function splineModel(): tfl.LayersModel {
  const input = tfl.input({shape: [6, 8]});
  const a = splineActivation({size: 21, range: 2, init: 'leaky_relu', name: 'per_channel'})
    .apply(input) as tfl.SymbolicTensor;
  const b = splineActivation({size: 9, grid: 0.3, init: 'tanh', shared: true, name: 'shared'})
    .apply(a) as tfl.SymbolicTensor;
  return tfl.model({inputs: input, outputs: b});
}

/** Weights and inputs as plain arrays, so that each backend builds its own tensors. */
function data() {
  const r = rng(11);
  const perChannel = Float32Array.from({length: 8 * 21}, () => r() * 2 - 1);
  const shared = Float32Array.from({length: 9}, () => r() * 2 - 1);
  const x = Float32Array.from({length: 5 * 6 * 8}, (_, i) => (i % 7 === 0 ? 0 : r() * 6 - 3));
  const dy = Float32Array.from({length: 5 * 6 * 8}, () => r() * 2 - 1);
  return {perChannel, shared, x, dy};
}

function run(d: ReturnType<typeof data>) {
  const model = splineModel();
  const weights = [tf.tensor2d(d.perChannel, [8, 21]), tf.tensor2d(d.shared, [1, 9])];
  model.setWeights(weights);
  tf.dispose(weights);
  const out = tf.tidy(() => {
    const x = tf.tensor3d(d.x, [5, 6, 8]);
    const dy = tf.tensor3d(d.dy, [5, 6, 8]);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(model.apply(xx) as tf.Tensor, dy)) as tf.Scalar;
    const {grads} = tf.variableGrads(() => loss(x),
      model.trainableWeights.map((w) => w.read() as tf.Variable));
    return {
      y: (model.predict(x) as tf.Tensor).dataSync() as Float32Array,
      dx: tf.grad(loss)(x).dataSync() as Float32Array,
      g: Object.keys(grads).sort().map((k) => grads[k].dataSync() as Float32Array),
    };
  });
  model.dispose();
  return out;
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

test('the same spline model gives the same bits on cpu and wasm (forward, dx, coefficient grads)', async () => {
  const d = data();
  const results = [];
  for (const backend of BACKENDS) {
    await use(backend);
    const before = tf.memory().numTensors;
    results.push(run(d));
    expect(tf.memory().numTensors).toBe(before);
  }
  const [cpu, wasm] = results;
  expect(bits(wasm.y)).toEqual(bits(cpu.y));
  expect(bits(wasm.dx)).toEqual(bits(cpu.dx));
  expect(wasm.g.map(bits)).toEqual(cpu.g.map(bits));
});

describe.each(BACKENDS)('on the %s backend', (backend) => {
  test('serialization round trip: same predictions and config', async () => {
    await use(backend);
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [3]}),
      splineActivation({size: 11, range: 1.5, init: 'relu', name: 'act'}),
      tfl.layers.dense({units: 2}),
    ]});
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([7, 3], -2, 2, 'float32', 3);
    const a = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    const b = (loaded.predict(x) as tf.Tensor).dataSync() as Float32Array;
    expect(bits(b)).toEqual(bits(a));
    expect(loaded.getLayer('act').getConfig()).toEqual(model.getLayer('act').getConfig());
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });
});
