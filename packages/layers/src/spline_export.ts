/**
 * A `SplineActivation` as standard layers, the exact function for every input: the spline
 * reduced to the knots that bend it, written as a sum of hat functions (or of ramps), in
 * `Dense`, `Minimum`, `ReLU`, `Permute`, `DepthwiseConv2D` and `Reshape` layers. Registered
 * with the exporter registry on import.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {SplineActivation} from './spline_activation.js';
import {registerStandardExport} from './export_registry.js';
import type {StandardExportContext} from './export_registry.js';

const CONTEXT = 'exportToStandardLayers';

/**
 * One unit of the standard-layer form of a spline: `ReLU(min(kA x + bA, kB x + bB))` (just
 * `ReLU(kA x + bA)` without `b`) and its weight in each channel.
 */
interface Unit { a: [number, number], b?: [number, number], weights: number[] }

/**
 * A spline as a weighted sum of units plus a per-channel affine part `linear x + bias`
 * (`linear` is zero whenever there are units).
 */
interface UnitForm { units: Unit[], linear: number[], bias: number[] }

/**
 * The splines of one layer reduced to the knots that bend them: the knots `k` (`1 .. K-2`,
 * ascending) whose ReLU slope `a_k = (c[k-1] - 2 c[k] + c[k+1]) / T` (float64, from the float32
 * coefficients) exceeds `threshold` in absolute value in some channel. `g`, the spline that
 * interpolates each channel's coefficients at the kept knots and continues with its end
 * segments' slopes, is what the forms below write.
 *
 * When `|a_k| <= threshold` means `a_k = 0` (threshold 0), `g` is the spline itself. Otherwise
 * `g - sigma` is piecewise linear with the grid's knots, and constant beyond the ends (same end
 * slopes), so `max_x |g(x) - sigma(x)| = max_k |g(t_k) - c[k]|`, at most the sum of the dropped
 * `|a_k|` times the grid's width `t_{K-1} - t_0` for every input, however far. That needs at
 * least one knot when the end slopes differ: then the knot with the largest `|a_k|` is kept.
 */
interface Bends {
  /** The kept knots' indices. */
  knots: number[];
  /** Per channel, `c[k]` at each kept knot. */
  values: number[][];
  /**
   * Per channel, the `n + 1` slopes of `g`: left of the first kept knot (the first segment's),
   * between consecutive kept knots, right of the last (the last segment's).
   */
  slopes: number[][];
}

function bends(coefficients: number[][], step: number, threshold: number): Bends {
  const size = coefficients[0]!.length;
  const peak = (k: number) => Math.max(...coefficients.map((c) => Math.abs((c[k - 1]! - 2 * c[k]! + c[k + 1]!) / step)));
  const knots: number[] = [];
  for (let k = 1; k < size - 1; ++k) if (peak(k) > threshold) knots.push(k);
  const first = (c: number[]) => (c[1]! - c[0]!) / step;
  const last = (c: number[]) => (c[size - 1]! - c[size - 2]!) / step;
  if (knots.length === 0 && coefficients.some((c) => first(c) !== last(c))) {
    let best = 1;
    for (let k = 2; k < size - 1; ++k) if (peak(k) > peak(best)) best = k;
    knots.push(best);
  }
  return {
    knots,
    values: coefficients.map((c) => knots.map((k) => c[k]!)),
    slopes: coefficients.map((c) => [first(c),
      ...knots.slice(1).map((k, j) => (c[k]! - c[knots[j]!]!) / ((k - knots[j]!) * step)), last(c)]),
  };
}

/**
 * A spline without bends: `c[m] + s (x - t_m)`, anchored at the middle knot `m` (the spline's
 * end slopes agree, and every `c[k]` lies on that line up to the dropped slopes).
 */
function affineForm(coefficients: number[][], start: number, step: number, slopes: number[][]): UnitForm {
  const m = Math.floor((coefficients[0]!.length - 1) / 2);
  const t = start + m * step;
  return {units: [], linear: slopes.map((s) => s[0]!), bias: coefficients.map((c, i) => c[m]! - slopes[i]![0]! * t)};
}

/**
 * The hat form over the kept knots `p_0 < ... < p_{n-1}` ({@link bends}; core's Semantics for
 * the rest): `g(x) = sum_j (g(p_j) / h_j) H_j(x) - s_L ReLU(p_0 - x) + s_R ReLU(x - p_{n-1})`,
 * `s_L`, `s_R` the end slopes. The hat `H_j = ReLU(min(m_R (x - p_{j-1}), m_L (p_{j+1} - x)))`,
 * `m_L`, `m_R` the knot counts to its neighbours, peaks at `h_j = m_L m_R T` on `p_j` and is
 * zero beyond them; `H_0` is flat left of `p_0`, `H_{n-1}` right of `p_{n-1}`. At any x at most
 * two hats and one ramp are non-zero, so the sum is the interpolation of core's Semantics with
 * rounding of the order of the coefficients', whatever the spline's roughness or size. One kept
 * knot needs no hat: `g(p_0)` is the bias.
 */
function hatForm(coefficients: number[][], start: number, step: number, threshold: number): UnitForm {
  const {knots, values, slopes} = bends(coefficients, step, threshold);
  const n = knots.length;
  if (n === 0) return affineForm(coefficients, start, step, slopes);
  const p = (j: number) => start + knots[j]! * step;
  const ramps: Unit[] = [
    {a: [-1, p(0)], b: [-1, p(0)], weights: slopes.map((s) => -s[0]!)},
    {a: [1, -p(n - 1)], b: [1, -p(n - 1)], weights: slopes.map((s) => s[n]!)},
  ];
  const zeros = coefficients.map(() => 0);
  if (n === 1) return {units: ramps.map(({a, weights}) => ({a, weights})), linear: zeros, bias: values.map((v) => v[0]!)};
  const units: Unit[] = [];
  for (let j = 0; j < n; ++j) {
    const left = j === 0 ? 0 : knots[j]! - knots[j - 1]!;
    const right = j === n - 1 ? 0 : knots[j + 1]! - knots[j]!;
    const height = (left === 0 ? right : right === 0 ? left : left * right) * step;
    units.push({
      a: j === 0 ? [0, height] : [right || 1, -(right || 1) * p(j - 1)],
      b: j === n - 1 ? [0, height] : [-(left || 1), (left || 1) * p(j + 1)],
      weights: values.map((v) => v[j]! / height),
    });
  }
  return {units: [...units, ...ramps], linear: zeros, bias: zeros};
}

/**
 * The ramp form over the kept knots ({@link bends}), anchored at the kept knot `p_m` nearest
 * the grid's middle: `g(x) = g(p_m) + s_m+ ReLU(x - p_m) - s_m- ReLU(p_m - x) + sum_{j > m} b_j
 * ReLU(x - p_j) + sum_{j < m} b_j ReLU(p_j - x)`, with `s_m-`, `s_m+` the slopes of `g` either
 * side of `p_m` and `b_j` its slope changes (the ReLU slopes `a_k` when nothing is dropped). One
 * unit fewer than the hat form and one Dense layer instead of two, but every ramp is active on
 * half the line, so the float32 sum cancels terms of size `|b_j| |x - p_j|`: its error grows
 * with the spline's TV(2) times the distance to the anchor.
 */
function rampForm(coefficients: number[][], start: number, step: number, threshold: number): UnitForm {
  const {knots, values, slopes} = bends(coefficients, step, threshold);
  const n = knots.length;
  if (n === 0) return affineForm(coefficients, start, step, slopes);
  const middle = (coefficients[0]!.length - 1) / 2;
  let m = 0;
  for (let j = 1; j < n; ++j) if (Math.abs(knots[j]! - middle) < Math.abs(knots[m]! - middle)) m = j;
  const p = (j: number) => start + knots[j]! * step;
  const units: Unit[] = [
    {a: [1, -p(m)], weights: slopes.map((s) => s[m + 1]!)},
    {a: [-1, p(m)], weights: slopes.map((s) => -s[m]!)},
  ];
  for (let j = 0; j < n; ++j) {
    if (j === m) continue;
    units.push({a: j > m ? [1, -p(j)] : [-1, p(j)], weights: slopes.map((s) => s[j + 1]! - s[j]!)});
  }
  return {units, linear: coefficients.map(() => 0), bias: values.map((v) => v[m]!)};
}

/** `setWeights` from plain arrays, disposing the temporary tensors. */
function writeWeights(layer: tfl.layers.Layer, values: Array<{data: number[], shape: number[]}>): void {
  const tensors = values.map((v) => tf.tensor(v.data, v.shape, 'float32'));
  try { layer.setWeights(tensors); } finally { tf.dispose(tensors); }
}

/**
 * A SplineActivation as standard layers, for an input `[B, S..., C]` and `U` units
 * ({@link hatForm}; {@link rampForm} has no `B` Dense and no Minimum):
 *
 * ```
 * Reshape [P, C, 1] -> Dense A(U), Dense B(U) -> Minimum -> ReLU -> Permute [P, U, C]
 *   -> DepthwiseConv2D([1, U], 'valid', per-channel unit weights, bias) -> Reshape [S..., C]
 * ```
 *
 * A shared spline needs no per-channel weights: `Reshape [P C, 1] -> Dense A, B -> Minimum ->
 * ReLU -> Dense(1) -> Reshape`. `P` may be unknown (`-1`); at most one of `S..., C` may be.
 * Units whose weight is exactly 0 in every channel are left out (they add exactly nothing);
 * without units the spline is affine: `Reshape [P, 1, C] -> DepthwiseConv2D([1, 1]) ->
 * Reshape` (shared: `Reshape [P C, 1] -> Dense(1) -> Reshape`).
 *
 * With `learnableScale`, channel n computes `sigma_n(s_n x) / s_n` (`s_n` the effective
 * scale): the units see `s_n x` and their weights and the bias are divided by `s_n`. Per channel
 * the input first goes through `Reshape [P, 1, C] -> DepthwiseConv2D([1, 1], kernel s, no bias)
 * -> Reshape [P, C, 1]` (the product `s_n x` the layer computes); shared, `s` multiplies the
 * input weights of Dense A and B (`ReLU(k s x + b)`, the units' knots at `t / s`). The affine
 * case needs no input scaling: `(l s x + b) / s = l x + b / s`.
 */
function exportSpline(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const spline = layer as SplineActivation;
  const x = inputs[0]!;
  const outShape = x.shape.slice(1);
  if (outShape.filter((d) => d == null).length > 1) {
    throw new UnsupportedError(`${CONTEXT}: SplineActivation '${layer.name}' has input shape ` +
      `${describe(x.shape)}; standard layers can only reshape it back with at most one unknown ` +
      `non-batch dimension. Give the model's input a fully known shape (except the batch)`);
  }
  const c = spline.effectiveCoefficients();
  const coefficients = c.arraySync() as number[][];
  c.dispose();
  const s = spline.effectiveScale();
  const scales = Array.from(s.dataSync());
  s.dispose();
  const scaled = spline.learnableScale;
  /** `v / s_n` (float64, rounded once when written) for channel n's value, or `v` unscaled. */
  const unscale = (v: number, n: number) => (scaled ? v / scales[n]! : v);
  const {splineForm, knotThreshold} = context.options;
  const form = (splineForm === 'ramps' ? rampForm : hatForm)(
    coefficients, spline.grid.start, spline.grid.step, knotThreshold);
  const units = form.units.filter((u) => u.weights.some((w) => w !== 0))
    .map((u) => ({...u, weights: u.weights.map(unscale)}));
  const bias = form.bias.map(unscale);
  const hats = units.some((u) => u.b != null);
  const n = units.length;
  const name = (suffix: string) => context.uniqueName(`${layer.name}_${suffix}`);
  const apply = (l: tfl.layers.Layer, t: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => l.apply(t) as tfl.SymbolicTensor;
  const channels = outShape[outShape.length - 1] as number;
  const shared = spline.shared;
  // A shared scale multiplies the units' input weights (per channel, a depthwise layer scales the input).
  const inputScale = scaled && shared ? scales[0]! : 1;
  const dense = (suffix: string, input: tfl.SymbolicTensor, part: (u: Unit) => [number, number]) => {
    const d = tfl.layers.dense({units: n, name: name(suffix)});
    const y = apply(d, input);
    writeWeights(d, [{data: units.map((u) => part(u)[0] * inputScale), shape: [1, n]},
      {data: units.map((u) => part(u)[1]), shape: [n]}]);
    return y;
  };
  const unitsOut = (columns: tfl.SymbolicTensor) => {
    let h = dense(hats ? 'rising' : 'ramps_in', columns, (u) => u.a);
    if (hats) {
      h = apply(tfl.layers.minimum({name: name('hats_in')}),
        [h, dense('falling', columns, (u) => u.b ?? u.a)]);
    }
    return apply(tfl.layers.reLU({name: name(hats ? 'hats' : 'ramps')}), h);
  };

  let h: tfl.SymbolicTensor;
  if (shared) {
    const columns = apply(tfl.layers.reshape({targetShape: [-1, 1], name: name('columns')}), x);
    const sum = tfl.layers.dense({units: 1, name: name(n === 0 ? 'affine' : 'weights')});
    h = apply(sum, n === 0 ? columns : unitsOut(columns));
    writeWeights(sum, [n === 0 ? {data: form.linear, shape: [1, 1]} : {data: units.map((u) => u.weights[0]!), shape: [n, 1]},
      {data: bias, shape: [1]}]);
  } else if (n === 0) {
    const columns = apply(tfl.layers.reshape({targetShape: [-1, 1, channels], name: name('columns')}), x);
    const affine = tfl.layers.depthwiseConv2d({kernelSize: [1, 1], name: name('affine')});
    h = apply(affine, columns);
    writeWeights(affine, [{data: form.linear, shape: [1, 1, channels, 1]}, {data: bias, shape: [channels]}]);
  } else {
    let input = x;
    if (scaled) {
      const rows = apply(tfl.layers.reshape({targetShape: [-1, 1, channels], name: name('rows')}), x);
      const scale = tfl.layers.depthwiseConv2d({kernelSize: [1, 1], useBias: false, name: name('scale')});
      input = apply(scale, rows);
      writeWeights(scale, [{data: scales, shape: [1, 1, channels, 1]}]);
    }
    const columns = apply(tfl.layers.reshape({targetShape: [-1, channels, 1], name: name('columns')}), input);
    h = apply(tfl.layers.permute({dims: [1, 3, 2], name: name('permute')}), unitsOut(columns));
    const sum = tfl.layers.depthwiseConv2d({kernelSize: [1, n], padding: 'valid', name: name('weights')});
    h = apply(sum, h);
    // Depthwise kernel [1, U, C, 1]: element (j, c) is unit j's weight in channel c.
    writeWeights(sum, [{data: units.flatMap((u) => u.weights), shape: [1, n, channels, 1]},
      {data: bias, shape: [channels]}]);
  }
  return apply(tfl.layers.reshape({targetShape: outShape.map((d) => d ?? -1), name: context.uniqueName(layer.name)}), h);
}

registerStandardExport(SplineActivation.className, exportSpline);
