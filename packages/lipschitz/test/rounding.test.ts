/**
 * Certified factors are never below the exact norm of the layer's float32 weights: each is
 * checked against the same norm computed independently in float64 (sums of the explicit
 * matrix, ml-matrix's SVD), over many random layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {lipschitzBound, spectralConv2d} from '@deepspline/lipschitz';
import {explicitMatrix, rng, rowColSums, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function singleLayerModel(layer: tfl.layers.Layer, inShape: number[]): tfl.Sequential {
  return tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: inShape}), layer]});
}

/** Every weight uniform in [-1, 1] (float32 values whose sums round in float32). */
function randomizeWeights(model: tfl.LayersModel, r: () => number): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const next = ws.map((w) => tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape));
    layer.setWeights(next);
    tf.dispose(next);
  }
}

/** `|A| |B|` in float64 for row-major `[m, k]` and `[k, n]`. */
function absProduct(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; ++i) {
    for (let l = 0; l < k; ++l) {
      const x = Math.abs(a[i * k + l]!);
      for (let j = 0; j < n; ++j) out[i * n + j] += x * Math.abs(b[l * n + j]!);
    }
  }
  return out;
}

interface Reference {
  /** The operator's matrix in float64 `[out, in]`. */
  m: Float64Array;
  rows: number;
  cols: number;
  /** `|A|` to take the 1 and Inf sums of, when not `m` itself (products: `|P| |D|`). */
  abs?: Float64Array;
}

interface RandomLayer {
  name: string;
  model: tfl.Sequential;
  reference: () => Reference;
}

/**
 * A random convolution or average pooling layer on a random input shape. The reference is the
 * explicit matrix of the layer's own `predict` (float32 kernel entries, exact); for average
 * pooling the entries `1 / count` in float64, where `count` is the number of inputs an output
 * row reads (its non-zeros).
 */
function randomLayer(r: () => number): RandomLayer {
  const kind = pick(r, ['conv2d', 'conv1d', 'depthwise', 'separable', 'spectralConv2d', 'avgpool2d', 'avgpool1d']);
  const pooling = kind.startsWith('avgpool');
  const padding = pick(r, ['valid', 'same'] as const);
  const strides = int(r, 1, 3);
  const dilationRate = strides === 1 && r() < 0.3 ? 2 : 1;
  const kernelSize: [number, number] = [int(r, 1, 5 - 2 * dilationRate), int(r, 1, 5 - 2 * dilationRate)];
  const h = int(r, 5, 8);
  const w = int(r, 5, 8);
  const c = int(r, 1, 3);
  const filters = int(r, 1, 4);
  const useBias = false;
  let layer: tfl.layers.Layer;
  let inShape = [h, w, c];
  switch (kind) {
    case 'conv2d': layer = tfl.layers.conv2d({filters, kernelSize, strides, padding, dilationRate, useBias}); break;
    case 'conv1d':
      inShape = [h + w, c];
      layer = tfl.layers.conv1d({filters, kernelSize: kernelSize[0]!, strides, dilationRate, padding, useBias});
      break;
    case 'depthwise':
      layer = tfl.layers.depthwiseConv2d({kernelSize, strides, padding, depthMultiplier: int(r, 1, 3), useBias});
      break;
    case 'separable':
      layer = tfl.layers.separableConv2d({filters, kernelSize, strides, padding, dilationRate,
        depthMultiplier: int(r, 1, 2), useBias});
      break;
    case 'spectralConv2d': layer = spectralConv2d({filters, kernelSize, strides, padding, useBias}); break;
    case 'avgpool2d': {
      const poolSize: [number, number] = [int(r, 1, 5), int(r, 1, 5)];
      layer = tfl.layers.averagePooling2d({poolSize, strides: [int(r, 1, 5), int(r, 1, 5)] as [number, number], padding});
      break;
    }
    default:
      inShape = [h + w, c];
      layer = tfl.layers.averagePooling1d({poolSize: int(r, 1, 5), strides: int(r, 1, 5), padding});
  }
  const model = singleLayerModel(layer, inShape);
  randomizeWeights(model, r);
  const c2 = layer.getConfig();
  const name = `${kind} ${JSON.stringify(pooling ? {poolSize: c2['poolSize'], strides: c2['strides'], padding} :
    {kernelSize, strides, padding, dilationRate})} on [${inShape}]`;
  const reference = (): Reference => {
    const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, inShape);
    if (pooling) {
      for (let i = 0; i < rows; ++i) {
        let count = 0;
        for (let j = 0; j < cols; ++j) count += m[i * cols + j] !== 0 ? 1 : 0;
        for (let j = 0; j < cols; ++j) m[i * cols + j] = m[i * cols + j] !== 0 ? 1 / count : 0;
      }
    }
    if (kind !== 'separable') return {m, rows, cols};
    // depthwise then pointwise, each as its explicit matrix: the 1 / Inf factors are |P| |D|
    const [depthwise, pointwise] = layer.getWeights() as [tf.Tensor4D, tf.Tensor4D];
    const s = layer as unknown as {strides: [number, number], padding: 'valid' | 'same', dilationRate: [number, number]};
    const d = explicitMatrix((x) => tf.depthwiseConv2d(x as tf.Tensor4D, depthwise, s.strides, s.padding, 'NHWC',
      s.dilationRate), inShape);
    const mid = d.rows / (depthwise.shape[2] * depthwise.shape[3]);
    const pk = Float64Array.from(pointwise.dataSync());  // [cm, filters]
    // P as a [rows, d.rows] matrix: block-diagonal over the `mid` positions
    const cm = pointwise.shape[2];
    const p = new Float64Array(rows * d.rows);
    for (let pos = 0; pos < mid; ++pos) {
      for (let f = 0; f < filters; ++f) {
        for (let k = 0; k < cm; ++k) p[(pos * filters + f) * d.rows + pos * cm + k] = pk[k * filters + f]!;
      }
    }
    return {m, rows, cols, abs: absProduct(p, d.m, rows, d.rows, cols)};
  };
  return {name, model, reference};
}

describe('factors of convolutions and average pooling are certificates', () => {
  test('norms 1 and Infinity (and 2 for pooling) never below the float64 norm of the explicit map', () => {
    const r = rng(2026);
    const below: string[] = [];
    const loose: string[] = [];
    let checked = 0;
    for (let trial = 0; trial < 140; ++trial) {
      const {name, model, reference} = randomLayer(r);
      const ref = reference();
      const {inf, one} = rowColSums(ref.abs ?? ref.m, ref.rows, ref.cols);
      const exact: [number, number][] = [[1, one], [Infinity, inf]];
      if (name.startsWith('avgpool')) exact.push([2, spectralNormSvd(ref.m, ref.rows, ref.cols)]);
      for (const [norm, truth] of exact) {
        const before = tf.memory().numTensors;
        const {bound} = lipschitzBound(model, {norm});
        expect(tf.memory().numTensors).toBe(before);
        // The reference's own float64 rounding: the sums of float32 kernel entries are within
        // 1e-15 of exact and the bound is rounded up past them; ml-matrix's SVD and the sums of
        // 1 / count are accurate to ~1e-15 relative. The float32 sums were ~1e-8 below.
        const floor = name.startsWith('avgpool') ? truth * (1 - 1e-13) : truth;
        if (!(bound >= floor)) below.push(`${name} norm ${norm}: ${bound} < ${truth}`);
        if (!(bound <= truth * (1 + 1e-9))) loose.push(`${name} norm ${norm}: ${bound} > ${truth}`);
        ++checked;
      }
      model.dispose();
    }
    expect(below).toEqual([]);
    expect(loose).toEqual([]);
    expect(checked).toBeGreaterThan(280);
  });

  test('a 5x5 average pool is bounded by 0.2 at norm 2 (tfjs reaches 0.2), not 0.1999999955', () => {
    const model = singleLayerModel(tfl.layers.averagePooling2d({poolSize: 5}), [10, 10, 1]);
    // the norm of a non-overlapping 5x5 mean is exactly 1/5 (a constant input reaches it)
    expect(lipschitzBound(model, {norm: 2}).bound).toBeGreaterThanOrEqual(0.2);
    model.dispose();
  });
});

/** `x` (a finite double >= 0) as `[m, e]` with `x = m * 2^e` exactly. */
function exact(x: number): [bigint, number] {
  let e = 0;
  while (!Number.isInteger(x)) { x *= 2; --e; }  // doubling is exact
  return [BigInt(x), e];
}

/** Whether `x^power * den >= num` holds exactly (no rounding). */
function atLeast(x: number, power: 1 | 2, num: number, den: number): boolean {
  const [m, e] = exact(x);
  const lhs = (power === 2 ? m * m : m) * BigInt(den);
  const shift = power * e;  // x^power = m^power * 2^shift
  return shift >= 0 ? lhs << BigInt(shift) >= BigInt(num) : lhs >= BigInt(num) << BigInt(-shift);
}

describe('closed-form factors are rounded up', () => {
  test('global average pooling: 1/n and 1/sqrt(n) never below, exactly', () => {
    const below: string[] = [];
    for (let n = 1; n <= 120; ++n) {
      const model = singleLayerModel(tfl.layers.globalAveragePooling1d(), [n, 1]);
      const one = lipschitzBound(model, {norm: 1}).bound;
      const two = lipschitzBound(model, {norm: 2}).bound;
      if (!atLeast(one, 1, 1, n)) below.push(`n ${n} norm 1: ${one}`);
      if (!atLeast(two, 2, 1, n)) below.push(`n ${n} norm 2: ${two}`);
      expect(two).toBeLessThan(1 / Math.sqrt(n) * (1 + 1e-14));
      model.dispose();
    }
    expect(below).toEqual([]);
  });

  test('sqrt(copies) of UpSampling2D and sqrt(windows) of max pooling never below, exactly', () => {
    const below: string[] = [];
    for (let a = 1; a <= 6; ++a) {
      for (let b = 1; b <= 6; ++b) {
        const up = singleLayerModel(tfl.layers.upSampling2d({size: [a, b]}), [2, 2, 1]);
        const pool = singleLayerModel(tfl.layers.maxPooling2d({poolSize: [a, b], strides: 1}), [7, 7, 1]);
        for (const model of [up, pool]) {
          const bound = lipschitzBound(model, {norm: 2}).bound;
          if (!atLeast(bound, 2, a * b, 1)) below.push(`${model.layers[model.layers.length - 1]!.getClassName()} ${a}x${b}: ${bound}`);
          model.dispose();
        }
      }
    }
    expect(below).toEqual([]);
  });
});

/** Whether the exact sum of `values` (doubles) is at most `x`, in exact integer arithmetic. */
function sumAtMost(values: number[], x: number): boolean {
  const parts = [...values, x].map(exact);
  const e = Math.min(...parts.map(([, pe]) => pe));
  const scaled = parts.map(([m, pe]) => m << BigInt(pe - e));
  const total = scaled.slice(0, -1).reduce((a, b) => a + b, 0n);
  return total <= scaled[scaled.length - 1]!;
}

describe('dense factors are certificates', () => {
  test('norms 1 and Infinity never below the exact row / column sums of the float32 kernel', () => {
    const r = rng(77);
    const below: string[] = [];
    for (let trial = 0; trial < 60; ++trial) {
      const [rows, cols] = [int(r, 2, 40), int(r, 2, 40)];
      const model = singleLayerModel(tfl.layers.dense({units: cols, useBias: false}), [rows]);
      // float32 weights of exponents 2^0 .. 2^-60: their float64 sums round (sums of values
      // within 29 binary orders of each other are exact in float64)
      const w = tf.tensor2d(Array.from({length: rows * cols}, () => (r() - 0.5) * 2 ** -int(r, 0, 60)), [rows, cols]);
      model.layers[model.layers.length - 1]!.setWeights([w]);
      w.dispose();
      const k = Array.from(model.layers[model.layers.length - 1]!.getWeights()[0]!.dataSync());  // [rows, cols]: x -> x W
      const rowSums = Array.from({length: rows}, (_, i) => k.slice(i * cols, (i + 1) * cols).map(Math.abs));
      const colSums = Array.from({length: cols}, (_, j) => rowSums.map((row) => row[j]!));
      const one = lipschitzBound(model, {norm: 1}).bound;  // each input feeds one row
      const inf = lipschitzBound(model, {norm: Infinity}).bound;
      if (!rowSums.every((v) => sumAtMost(v, one))) below.push(`[${rows}, ${cols}] norm 1: ${one}`);
      if (!colSums.every((v) => sumAtMost(v, inf))) below.push(`[${rows}, ${cols}] norm Infinity: ${inf}`);
      const largest = (sums: number[][]) => Math.max(...sums.map((v) => v.reduce((a, b) => a + b, 0)));
      expect(one).toBeLessThan(largest(rowSums) * (1 + 1e-12));
      expect(inf).toBeLessThan(largest(colSums) * (1 + 1e-12));
      model.dispose();
    }
    expect(below).toEqual([]);
  });
});
