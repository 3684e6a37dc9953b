/**
 * The ReLU family as `withSplineActivations` recognises it (`relu`, `relu6`, `ReLU` with
 * `maxValue`, `LeakyReLU`, `PReLU`, the `activation` option of Dense and Conv layers), and the
 * grid and `init` of the spline that reproduces each exactly.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError, splineGrid, UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import type {SplineGrid} from '@deepspline/core';
import {DEFAULT_RANGE, DEFAULT_SIZE} from './spline_activation.js';
import {LEAKY_RELU_SLOPE} from './inits.js';
import type {SplineInit} from './inits.js';

const CONTEXT = 'withSplineActivations';

/** A ReLU-family activation: per-channel function `x -> x >= 0 ? min(x, max) : slope_n x`. */
export interface ReluLike {
  /** Negative-side slope per channel (a single value when it does not vary). */
  slopes: number[];
  /** Upper clip (ReLU6, `ReLU({maxValue})`), or `undefined`. */
  maxValue?: number;
  /** Description for error messages and the spline's `init`. */
  kind: string;
}


/** The grid arguments of `withSplineActivations` (see `WithSplineActivationsArgs`). */
export interface GridArgs {
  /** Coefficients per spline. */
  size?: number;
  /** One-sided range of the knots. */
  range?: number;
  /** Knot spacing instead of `range`. */
  grid?: number;
}

/** Layer classes whose `activation` option can be split off into a spline layer. */
export const SPLITTABLE = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose',
  'Conv3DTranspose', 'SeparableConv2D', 'DepthwiseConv2D']);

/** `activation` identifiers of the ReLU family. */
const RELU_NAMES: Record<string, ReluLike> = {
  relu: {slopes: [0], kind: 'relu'},
  relu6: {slopes: [0], maxValue: 6, kind: 'relu6'},
};

function activationName(layer: tfl.layers.Layer): string | undefined {
  const config = layer.getConfig();
  const act = config.activation;
  if (act == null) return undefined;
  if (typeof act === 'string') return act;
  const obj = act as {className?: string};
  return typeof obj.className === 'string' ? obj.className : undefined;
}

/**
 * The ReLU-family activation that `layer` applies (as an activation layer or through its
 * `activation` option), or `undefined`.
 */
export function reluLike(layer: tfl.layers.Layer): ReluLike | undefined {
  const cls = layer.getClassName();
  const config = layer.getConfig();
  if (cls === 'ReLU') {
    const maxValue = config.maxValue as unknown;
    // tfjs clips with clipByValue(x, 0, maxValue): Infinity does not clip, a negative or NaN
    // clip value fails there at the first call.
    if (maxValue == null || maxValue === Infinity) return {slopes: [0], kind: 'relu'};
    if (typeof maxValue !== 'number' || !(maxValue >= 0)) {
      throw new ArgumentError(`${CONTEXT}: layer '${layer.name}' (ReLU) has maxValue ` +
        `${describe(maxValue)}; expected a number >= 0 (tfjs's own ReLU fails on it)`);
    }
    return {slopes: [0], maxValue, kind: `ReLU(maxValue ${maxValue})`};
  }
  if (cls === 'LeakyReLU') {
    const alpha = config.alpha as number;
    return {slopes: [alpha], kind: `leakyReLU(alpha ${alpha})`};
  }
  if (cls === 'PReLU') {
    return {slopes: preluSlopes(layer), kind: 'PReLU'};
  }
  if (cls === 'ThresholdedReLU') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (ThresholdedReLU) is discontinuous; a ` +
      `continuous linear spline cannot reproduce it. Replace it by hand or exclude it with filter`);
  }
  const name = activationName(layer);
  if (name != null && name in RELU_NAMES) {
    if (cls === 'Activation' || SPLITTABLE.has(cls)) return RELU_NAMES[name];
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (${cls}) applies the activation ` +
      `'${name}' internally, which cannot be split off into a spline layer; supported are ` +
      `Activation, ReLU, LeakyReLU, PReLU layers and the activation option of ` +
      `${[...SPLITTABLE].join(', ')}. Exclude it with filter to keep it`);
  }
  return undefined;
}

/** The per-channel negative slopes of a PReLU layer (its alpha must not vary over other axes). */
function preluSlopes(layer: tfl.layers.Layer): number[] {
  const [alpha] = layer.getWeights();
  const shape = alpha.shape;
  const channels = shape[shape.length - 1];
  const values = alpha.dataSync();
  const rows = values.length / channels;
  for (let r = 1; r < rows; ++r) {
    for (let c = 0; c < channels; ++c) {
      if (values[r * channels + c] !== values[c]) {
        throw new ArgumentError(`${CONTEXT}: PReLU layer '${layer.name}' has alpha of shape ` +
          `${describe(shape)} that varies along axes other than the last (channel) axis; a ` +
          `spline layer has one activation per channel. Use sharedAxes on the non-channel ` +
          `axes, or exclude the layer with filter`);
      }
    }
  }
  return Array.from(values.subarray(0, channels));
}

/** Throws unless `layer` acts on the last axis (spline activations are per channel, last). */
export function checkChannelsLast(layer: tfl.layers.Layer): void {
  const format = layer.getConfig().dataFormat;
  if (format === 'channelsFirst') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' uses dataFormat 'channelsFirst'; spline ` +
      `activations act on the last axis, so only channelsLast models are supported`);
  }
}

/** The value of a ReLU-family activation with negative slope `slope`. */
export function reluValue(act: ReluLike, slope: number, x: number): number {
  const y = x >= 0 ? x : slope * x;
  return act.maxValue !== undefined && y > act.maxValue ? act.maxValue : y;
}

/**
 * Checks that the spline grid reproduces `act` for every input: a knot at 0 (odd size) and,
 * for a clip value `m > 0`, a knot at `m` below the last knot, so that the segments from `m`
 * on are flat (beyond the grid the spline continues with its end segments' slopes).
 */
function checkGrid(act: ReluLike, grid: SplineGrid, layerName: string): void {
  if (grid.size % 2 === 0) {
    throw new ArgumentError(`${CONTEXT}: expected an odd size so that a knot sits at 0, where the ` +
      `${act.kind} activation of layer '${layerName}' bends; got size ${grid.size}`);
  }
  const m = act.maxValue;
  if (m === undefined || m === 0 || clipOnInnerKnot(m, grid)) return;
  const u = (m - grid.start) / grid.step;
  const where = m < grid.range && Math.abs(u - Math.round(u)) > KNOT_TOLERANCE ?
    `lies inside the grid [${grid.start}, ${grid.range}] but not on a knot (spacing ${grid.step})` :
    `is not a knot below the last one of the grid [${grid.start}, ${grid.range}], so the ` +
    `spline would keep rising beyond the grid instead of staying at ${m}`;
  throw new ArgumentError(`${CONTEXT}: the ${act.kind} activation of layer '${layerName}' bends at ` +
    `${m}, which ${where}; choose range or grid so that ${m} is a knot below the last one ` +
    `(e.g. range ${autoRange(m, grid.size)} for size ${grid.size}), or give neither and ` +
    `the grid of this layer is chosen so`);
}

/** How far (in knot spacings) a clip value may lie from a knot and still count as on it. */
const KNOT_TOLERANCE = 1e-6;

/** True when the clip value `m` is a knot of `grid` with at least one knot above it. */
function clipOnInnerKnot(m: number, grid: SplineGrid): boolean {
  const u = (m - grid.start) / grid.step;
  return Math.abs(u - Math.round(u)) <= KNOT_TOLERANCE && Math.round(u) <= grid.size - 2;
}

/** The range that puts the clip value `m` on the second-to-last knot of `size` knots. */
function autoRange(m: number, size: number): number {
  const half = (size - 1) / 2;
  return m * half / (half - 1);
}

/**
 * The grid of the spline that replaces `act`: `range` or `grid` when given (checked), else
 * the default range, or, for a clip value that is not a knot below the last one of the
 * default grid, the range that puts it on the second-to-last knot (same size).
 */
export function gridFor(act: ReluLike, args: GridArgs, layerName: string): SplineGrid {
  const size = args.size ?? DEFAULT_SIZE;
  const given = args.range != null || args.grid != null;
  let grid = splineGrid({size, range: given ? args.range : DEFAULT_RANGE, grid: args.grid}, CONTEXT);
  const m = act.maxValue;
  if (!given && m !== undefined && m > 0 && !clipOnInnerKnot(m, grid) && grid.size % 2 === 1) {
    if (grid.size < 5) {
      throw new ArgumentError(`${CONTEXT}: the ${act.kind} activation of layer '${layerName}' bends at ` +
        `0 and ${m}; a spline that reproduces it needs knots at both and one above ${m}, so ` +
        `size >= 5, got size ${grid.size}`);
    }
    grid = splineGrid({size, range: autoRange(m, grid.size)}, CONTEXT);
  }
  checkGrid(act, grid, layerName);
  return grid;
}

/** The `init` stored in the new layer's config (the exact coefficients are written after). */
export function splineInit(act: ReluLike): SplineInit {
  if (act.maxValue === undefined && act.slopes.length === 1) {
    if (act.slopes[0] === 0) return 'relu';
    if (Math.abs(act.slopes[0] - LEAKY_RELU_SLOPE) < 1e-12) return 'leaky_relu';
  }
  const slope = act.slopes[0];
  return (x: number) => reluValue(act, slope, x);
}
