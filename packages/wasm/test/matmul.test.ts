/**
 * The opt-in transposing matMul: registry behaviour (replaces, idempotent, reversible, safe
 * without the kernels), results against tfjs's own kernel and a float64 product, a Dense
 * layer's gradients against float64 formulas, and no leaked tensors or heap blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {registerTransposingMatMul, restoreTfjsMatMul, transposingMatMulRegistered} from '@deepspline/wasm';
import {rng} from '@deepspline/testing';
import {trackHeapBlocks, useWasm} from './helpers';

beforeAll(useWasm);
afterEach(() => { restoreTfjsMatMul(); });

const kernelFunc = (name: string) => tf.getKernel(name, 'wasm')!.kernelFunc;

/** Row-major float64 product of `[batch, m, k]` and `[batch, k, n]` (batch broadcast 1 -> b). */
function matMul64(a: Float32Array, b: Float32Array, [ba, m, k]: number[], [bb, , n]: number[],
    transposeA: boolean, transposeB: boolean): {value: Float64Array, scale: Float64Array} {
  const batch = Math.max(ba!, bb!);
  const value = new Float64Array(batch * m! * n!);
  const scale = new Float64Array(batch * m! * n!);
  for (let t = 0; t < batch; ++t) {
    const ao = (ba === 1 ? 0 : t) * m! * k!;
    const bo = (bb === 1 ? 0 : t) * k! * n!;
    for (let i = 0; i < m!; ++i) {
      for (let j = 0; j < n!; ++j) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < k!; ++p) {
          const x = a[ao + (transposeA ? p * m! + i : i * k! + p)]!;
          const y = b[bo + (transposeB ? j * k! + p : p * n! + j)]!;
          s += x * y;
          abs += Math.abs(x * y);
        }
        value[(t * m! + i) * n! + j] = s;
        scale[(t * m! + i) * n! + j] = abs;
      }
    }
  }
  return {value, scale};
}

/** Every element within float32 summation error of the float64 product: k 2^-23 sum |a b|. */
function expectNear(actual: ArrayLike<number>, {value, scale}: {value: Float64Array, scale: Float64Array}, k: number) {
  expect(actual.length).toBe(value.length);
  let worst = 0;
  for (let i = 0; i < value.length; ++i) {
    worst = Math.max(worst, Math.abs(actual[i]! - value[i]!) / (k * 2 ** -23 * scale[i]! + 1e-30));
  }
  expect(worst).toBeLessThanOrEqual(1);
}

test('registers for wasm only when asked, replaces both products, is idempotent and reversible', () => {
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm')!;
  const fused = tf.getKernel('_FusedMatMul', 'wasm')!;
  expect(transposingMatMulRegistered()).toBe(false);  // not on import

  expect(registerTransposingMatMul()).toBe(true);
  expect(transposingMatMulRegistered()).toBe(true);
  const wrapped = kernelFunc('BatchMatMul');
  const wrappedFused = kernelFunc('_FusedMatMul');
  expect(wrapped).not.toBe(batchMatMul.kernelFunc);
  expect(wrappedFused).not.toBe(fused.kernelFunc);
  // tfjs's setup stays: a backend initialized later still sets up its kernel
  expect(tf.getKernel('BatchMatMul', 'wasm')!.setupFunc).toBe(batchMatMul.setupFunc);
  expect(tf.getKernel('BatchMatMul', 'cpu')!.kernelFunc).not.toBe(wrapped);

  expect(registerTransposingMatMul()).toBe(true);  // idempotent: no wrapper of the wrapper
  expect(kernelFunc('BatchMatMul')).toBe(wrapped);
  expect(kernelFunc('_FusedMatMul')).toBe(wrappedFused);

  expect(restoreTfjsMatMul()).toBe(true);
  expect(transposingMatMulRegistered()).toBe(false);
  expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(batchMatMul);
  expect(tf.getKernel('_FusedMatMul', 'wasm')).toBe(fused);
  expect(restoreTfjsMatMul()).toBe(true);  // idempotent
  expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(batchMatMul);

  // again after a restore
  expect(registerTransposingMatMul()).toBe(true);
  expect(transposingMatMulRegistered()).toBe(true);
});

test('does nothing without the wasm Transpose kernel, and keeps a kernel registered over it', () => {
  const transpose = tf.getKernel('Transpose', 'wasm')!;
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm')!;
  tf.unregisterKernel('Transpose', 'wasm');
  try {
    expect(registerTransposingMatMul()).toBe(false);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(batchMatMul);
  } finally {
    tf.registerKernel(transpose);
  }

  registerTransposingMatMul();
  const theirs = {...batchMatMul, kernelFunc: batchMatMul.kernelFunc.bind(null)};
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(theirs);
  expect(restoreTfjsMatMul()).toBe(false);
  expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(theirs);
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(batchMatMul);
});

describe('results', () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [];
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    cases.push([[1, 37, 53], [1, 53, 29], ta, tb]);
    cases.push([[3, 8, 17], [3, 17, 5], ta, tb]);
    cases.push([[1, 6, 19], [4, 19, 7], ta, tb]);   // broadcast batch
    cases.push([[1, 1, 64], [1, 64, 1], ta, tb]);   // vectors: the transpose is a no-op reshape
  }
  test.each(cases)('%j x %j transposeA %s transposeB %s: tfjs\'s kernel and float64 agree', (sa, sb, ta, tb) => {
    const r = rng(sa.concat(sb).reduce((x, y) => x * 31 + y, 7));
    const [ba, m, k] = sa;
    const [bb, , n] = sb;
    const av = Float32Array.from({length: ba! * m! * k!}, () => r() * 2 - 1);
    const bv = Float32Array.from({length: bb! * k! * n!}, () => r() * 2 - 1);
    const shapeA = ta ? [ba!, k!, m!] : [ba!, m!, k!];
    const shapeB = tb ? [bb!, n!, k!] : [bb!, k!, n!];
    const run = () => tf.tidy(() => {
      const a = tf.tensor3d(av, shapeA as [number, number, number]);
      const b = tf.tensor3d(bv, shapeB as [number, number, number]);
      const bias = tf.tensor1d(Float32Array.from({length: n!}, (_, i) => i / n! - 0.5));
      return [tf.matMul(a, b, ta, tb).dataSync(),
        tf.fused.matMul({a, b, transposeA: ta, transposeB: tb, activation: 'relu'}).dataSync(),
        tf.matMul(tf.reshape(tf.slice(a, 0, 1), shapeA.slice(1)), tf.reshape(tf.slice(b, 0, 1), shapeB.slice(1)),
          ta, tb).dataSync(),
        tf.fused.matMul({a, b, transposeA: ta, transposeB: tb, bias, activation: 'relu'}).dataSync()];
    });
    const theirs = run();
    const [theirsPlain, theirsFused, theirs2d] = theirs;
    registerTransposingMatMul();
    const before = tf.memory().numTensors;
    const heap = trackHeapBlocks();
    heap.install();
    let ours: ReturnType<typeof run>;
    try {
      ours = run();
    } finally {
      heap.uninstall();
    }
    expect(heap.live()).toBe(0);
    expect(tf.memory().numTensors).toBe(before);

    const ref = matMul64(av, bv, [ba!, m!, k!], [bb!, k!, n!], ta, tb);
    expectNear(ours[0]!, ref, k!);
    expectNear(theirsPlain!, ref, k!);
    const relu = {value: ref.value.map((v) => Math.max(0, v)), scale: ref.scale};
    expectNear(ours[1]!, relu, k!);
    // tfjs-backend-wasm 4.22's own _FusedMatMul is wrong for some transposed products (e.g.
    // [53, 37]^T x [53, 29], relu: off by 1.8) and adds the wrong bias elements for batch > 1;
    // ours multiplies untransposed, where it is right for batch 1
    if (!ta && !tb) expectNear(theirsFused!, relu, k!);
    if (ba === 1 && bb === 1) {
      const biased = {value: ref.value.map((v, i) => Math.max(0, v + ((i % n!) / n! - 0.5))), scale: ref.scale.map((s) => s + 1)};
      expectNear(ours[3]!, biased, k!);
      if (!ta && !tb) expectNear(theirs[3]!, biased, k!);
    }
    const ref2d = matMul64(av.subarray(0, m! * k!), bv.subarray(0, k! * n!), [1, m!, k!], [1, k!, n!], ta, tb);
    expectNear(ours[2]!, ref2d, k!);
    expectNear(theirs2d!, ref2d, k!);
  });
});

test('a Dense layer\'s gradients equal the float64 formulas with the transposing kernel', () => {
  const [batch, inDim, units] = [32, 40, 24];
  const r = rng(11);
  const xv = Float32Array.from({length: batch * inDim}, () => r() * 2 - 1);
  const gv = Float32Array.from({length: batch * units}, () => r() * 2 - 1);
  const layer = tfl.layers.dense({units, inputShape: [inDim], kernelInitializer: 'glorotUniform', useBias: true});
  layer.build([null, inDim]);
  const [kernel, bias] = layer.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const w = kernel.dataSync() as Float32Array;
  // loss = sum((x W + b) .* g): dW = x^T g, db = sum_rows g, dx = g W^T
  const loss = (x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, tf.tensor2d(gv, [batch, units])));
  const grads = () => tf.tidy(() => {
    const x = tf.tensor2d(xv, [batch, inDim]);
    const {grads: g} = tf.variableGrads(() => loss(x) as tf.Scalar, layer.trainableWeights.map((v) => (v as unknown as {val: tf.Variable}).val));
    const dx = tf.grad((t: tf.Tensor) => loss(t))(x);
    return [...Object.values(g).map((t) => t.dataSync()), dx.dataSync()];
  });
  const theirs = grads();
  registerTransposingMatMul();
  const before = tf.memory().numTensors;
  const ours = grads();
  expect(tf.memory().numTensors).toBe(before);

  const dW = matMul64(xv, gv, [1, inDim, batch], [1, batch, units], true, false);
  const dx = matMul64(gv, w, [1, batch, units], [1, units, inDim], false, true);
  const db = {value: new Float64Array(units), scale: new Float64Array(units)};
  for (let i = 0; i < batch * units; ++i) {
    db.value[i % units] += gv[i]!;
    db.scale[i % units] += Math.abs(gv[i]!);
  }
  for (const g of [ours, theirs]) {
    expectNear(g[0]!, dW, batch);
    expectNear(g[1]!, db, batch);
    expectNear(g[2]!, dx, units);
  }
  kernel.dispose();  // the layer's variables
  bias.dispose();
});
