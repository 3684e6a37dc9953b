/**
 * Save/load round trips of spline models through every path tfjs offers (memory handler,
 * model.json + weights.bin files, modelFromJSON), for every init and spline setting and for
 * models converted by withSplineActivations: the same config, the same bits.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Scalar, Tensor} from '@tensorflow/tfjs-core';
import type {SplineGrid} from '@deepspline/core';
import {SPLINE_INIT_NAMES, SplineActivation, splineActivation,
  withSplineActivations} from '@deepspline/layers';
import type {SplineActivationArgs, WithSplineActivationsArgs} from '@deepspline/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// The real base class: tfjs-layers' own layers check `instanceof` against it.
const RegularizerBase = Object.getPrototypeOf(tfl.regularizers.l1l2().constructor) as
  new () => {apply(x: Tensor): Scalar, getConfig(): tf.serialization.ConfigDict};

/** A registered custom regularizer with a camelCase config key that also wants the grid. */
class ScaledL1 extends RegularizerBase {
  static className = 'ScaledL1';
  readonly scaleFactor: number;
  grid: SplineGrid | undefined;
  constructor(args: {scaleFactor?: number} = {}) {
    super();
    this.scaleFactor = args.scaleFactor ?? 1;
  }
  setSplineGrid(grid: SplineGrid): void { this.grid = grid; }
  override apply(x: Tensor): Scalar {
    return tf.tidy(() => tf.mul(this.scaleFactor * this.grid!.step, tf.sum(tf.abs(x))) as Scalar);
  }
  override getConfig(): tf.serialization.ConfigDict { return {scaleFactor: this.scaleFactor}; }
}
tf.serialization.registerClass(ScaledL1 as unknown as tf.serialization.SerializableConstructor<
  tf.serialization.Serializable>);

/** A save handler that captures the artifacts in memory. */
async function saveToMemory(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return saved!;
}

/**
 * Saves `model` as `<dir>/model.json` + `<dir>/weights.bin` (the files tfjs-node's `file://`
 * handler writes) and loads it back from those files, through JSON text.
 */
async function viaFiles(model: tfl.LayersModel, dir: string): Promise<tfl.LayersModel> {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(weights));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      modelTopology: artifacts.modelTopology, format: artifacts.format,
      generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs ?? []}],
    }));
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  }));
  return tfl.loadLayersModel({
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const b = readFileSync(join(dir, manifest[0].paths[0]));
        return [manifest[0].weights, b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)];
      });
    },
  });
}

/** The bits of a float32 tensor (so that -0, NaN payloads and ulps all count); disposes it. */
function bits(t: Tensor): number[] {
  const v = Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
  t.dispose();
  return v;
}

const splines = (m: tfl.LayersModel) =>
  m.layers.filter((l) => l instanceof SplineActivation) as SplineActivation[];

/** The pythonic (saved) configs of the spline layers in a saved topology. */
function savedSplineConfigs(topology: unknown): Array<Record<string, unknown>> {
  const layers = (topology as {config: {layers: Array<{class_name: string, config: object}>}})
    .config.layers;
  return layers.filter((l) => l.class_name === 'SplineActivation')
    .map((l) => l.config as Record<string, unknown>);
}

const seeded = (seed: number) => tfl.initializers.glorotUniform({seed});

/** Dense -> spline -> Dense with the given spline arguments. */
function direct(args: SplineActivationArgs): () => tfl.LayersModel {
  return () => tfl.sequential({layers: [
    tfl.layers.dense({units: 4, inputShape: [2], kernelInitializer: seeded(1),
      biasInitializer: tfl.initializers.randomUniform({minval: -1, maxval: 1, seed: 2})}),
    splineActivation({name: 'act', ...args}),
    tfl.layers.dense({units: 2, kernelInitializer: seeded(3)}),
  ]});
}

/** `first` (with inputShape) followed by a Dense, converted with `args`. */
function converted(first: () => tfl.layers.Layer, args: WithSplineActivationsArgs = {},
    before?: () => tfl.layers.Layer): () => tfl.LayersModel {
  return () => {
    const m = tfl.sequential({layers: before != null ? [before(), first()] : [first()]});
    if (m.outputs[0].shape.length > 2) m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({units: 2, kernelInitializer: seeded(4)}));
    // Random alphas and biases, so that the conversion has something to reproduce.
    for (const w of m.weights) {
      const v = tf.randomUniform(w.shape as number[], -0.8, 0.8, 'float32', 7);
      w.write(v);
      v.dispose();
    }
    const s = withSplineActivations(m, args);
    m.dispose();
    return s;
  };
}

const dense = (extra: object = {}) => () =>
  tfl.layers.dense({units: 3, inputShape: [2], ...extra});
interface ConvArgs {inputShape: number[], kernelSize: number, activation: 'relu'}
const conv = (make: (a: ConvArgs) => tfl.layers.Layer, inputShape: number[]) =>
  () => make({inputShape, kernelSize: 2, activation: 'relu'});

interface Case {
  /** Builds the model (fresh for each save path). */
  make: () => tfl.LayersModel;
  /** Input shape without the batch axis. */
  input: number[];
  /**
   * The init saved in the JSON (snake_case, or 'array' for coefficient arrays), per spline
   * layer when they differ.
   */
  saved: string | string[];
}

const l2 = tfl.regularizers.l2({l2: 1e-3});
const cases: Record<string, Case> = {
  ...Object.fromEntries(SPLINE_INIT_NAMES.map((init) =>
    [`init ${init}`, {make: direct({init}), input: [2], saved: init}])),
  'default init': {make: direct({}), input: [2], saved: 'leaky_relu'},
  'init function': {make: direct({size: 5, range: 1, init: (x) => x * x}), input: [2],
    saved: 'array'},
  'init array (with -0, which JSON cannot hold)': {make: direct({size: 3, init: [-0, -2, 0.5]}),
    input: [2], saved: 'array'},
  'size, grid, shared': {make: direct({size: 8, grid: 0.3, shared: true, init: 'even_odd'}),
    input: [2], saved: 'even_odd'},
  'range, maxSlope': {make: direct({size: 11, range: 0.7, init: 'softplus', maxSlope: 0.5}),
    input: [2], saved: 'softplus'},
  'l1 regularizer, nonNeg constraint': {make: direct({init: 'leaky_relu',
    coefficientsRegularizer: tfl.regularizers.l1({l1: 0.02}), coefficientsConstraint: 'nonNeg'}),
  input: [2], saved: 'leaky_relu'},
  'l2 regularizer, maxNorm constraint': {make: direct({init: 'even_odd',
    coefficientsRegularizer: l2, coefficientsConstraint: tfl.constraints.maxNorm({maxValue: 3, axis: 1})}),
  input: [2], saved: 'even_odd'},
  'custom registered regularizer': {make: direct({init: 'leaky_relu',
    coefficientsRegularizer: {className: 'ScaledL1', config: {scaleFactor: 0.25}}}),
  input: [2], saved: 'leaky_relu'},
  'convert Activation relu': {make: converted(() => tfl.layers.activation({activation: 'relu'}),
    {}, dense()), input: [2], saved: 'relu'},
  'convert Activation relu6': {make: converted(() => tfl.layers.activation({activation: 'relu6'}),
    {range: 8, size: 17}, dense()), input: [2], saved: 'array'},
  'convert ReLU': {make: converted(() => tfl.layers.reLU(), {}, dense()), input: [2],
    saved: 'relu'},
  'convert ReLU maxValue': {make: converted(() => tfl.layers.reLU({maxValue: 1}), {}, dense()),
    input: [2], saved: 'array'},
  'convert LeakyReLU alpha 0.01': {make: converted(() => tfl.layers.leakyReLU({alpha: 0.01}), {},
    dense()), input: [2], saved: 'leaky_relu'},
  'convert LeakyReLU default alpha': {make: converted(() => tfl.layers.leakyReLU(), {}, dense()),
    input: [2], saved: 'array'},
  'convert LeakyReLU, every option': {make: converted(() => tfl.layers.leakyReLU({alpha: 0.01}),
    {size: 11, grid: 0.25, shared: true, coefficientsRegularizer: l2,
      coefficientsConstraint: 'nonNeg', maxSlope: 2}, dense()), input: [2], saved: 'leaky_relu'},
  'convert PReLU': {make: converted(() => tfl.layers.prelu(), {}, dense()), input: [2],
    saved: 'array'},
  'convert Dense relu': {make: converted(dense({activation: 'relu'})), input: [2], saved: 'relu'},
  'convert Dense relu6': {make: converted(dense({activation: 'relu6'}), {range: 8, size: 17}),
    input: [2], saved: 'array'},
  'convert Conv1D': {make: converted(conv((a) => tfl.layers.conv1d({filters: 2, ...a}), [4, 2])),
    input: [4, 2], saved: 'relu'},
  'convert Conv2D': {make: converted(conv((a) => tfl.layers.conv2d({filters: 2, ...a}),
    [3, 3, 2])), input: [3, 3, 2], saved: 'relu'},
  'convert Conv3D': {make: converted(conv((a) => tfl.layers.conv3d({filters: 2, ...a}),
    [3, 3, 3, 1])), input: [3, 3, 3, 1], saved: 'relu'},
  'convert Conv2DTranspose': {make: converted(conv((a) =>
    tfl.layers.conv2dTranspose({filters: 2, ...a}), [2, 2, 2])), input: [2, 2, 2], saved: 'relu'},
  'convert Conv3DTranspose': {make: converted(conv((a) =>
    tfl.layers.conv3dTranspose({filters: 2, ...a}), [2, 2, 2, 1])), input: [2, 2, 2, 1],
  saved: 'relu'},
  'convert SeparableConv2D': {make: converted(conv((a) =>
    tfl.layers.separableConv2d({filters: 2, ...a}), [3, 3, 2])), input: [3, 3, 2], saved: 'relu'},
  'convert DepthwiseConv2D': {make: converted(conv((a) =>
    tfl.layers.depthwiseConv2d(a), [3, 3, 2])), input: [3, 3, 2], saved: 'relu'},
  'convert a functional model': {make: () => {
    const input = tfl.input({shape: [2]});
    const h = tfl.layers.dense({units: 3, activation: 'relu', kernelInitializer: seeded(5)})
      .apply(input) as tfl.SymbolicTensor;
    const g = tfl.layers.leakyReLU({alpha: 0.01}).apply(h) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([h, g]) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: sum});
    const s = withSplineActivations(m, {size: 9, range: 1.5});
    m.dispose();
    return s;
  }, input: [2], saved: ['relu', 'leaky_relu']},
};

describe('save/load round trip', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'deepspline-serialization-')); });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  test.each(Object.entries(cases))('%s: same config and bits through memory, files and ' +
      'modelFromJSON, snake_case init in the JSON, no leaks', async (_name, c) => {
    const model = c.make();
    const x = tf.randomUniform([7, ...c.input], -3, 3, 'float32', 11);
    const expected = bits(model.predict(x) as Tensor);
    const before = tf.memory().numTensors;
    const saved = await saveToMemory(model);
    const configs = savedSplineConfigs(saved.modelTopology);
    expect(configs.length).toBe(splines(model).length);
    const inits = configs.map((_, i) => (Array.isArray(c.saved) ? c.saved[i] : c.saved));
    configs.forEach((config, i) => {
      expect(config).toHaveProperty('coefficients_regularizer');
      if (inits[i] === 'array') expect(Array.isArray(config.init)).toBe(true);
      else expect(config.init).toBe(inits[i]);
    });
    const fromJSON = await tfl.models.modelFromJSON(
      JSON.parse(JSON.stringify(saved.modelTopology)) as tf.io.ModelJSON['modelTopology'] as never);
    fromJSON.setWeights(model.getWeights());
    const loadedModels = [await tfl.loadLayersModel(tf.io.fromMemory(saved)),
      await viaFiles(model, dir), fromJSON];
    for (const loaded of loadedModels) {
      expect(bits(loaded.predict(x) as Tensor)).toEqual(expected);
      const got = splines(loaded);
      expect(got.map((l) => l.getConfig())).toEqual(splines(model).map((l) => l.getConfig()));
      got.forEach((layer, i) => {
        if (inits[i] === 'array') expect(Array.isArray(layer.init)).toBe(true);
        else expect(layer.init).toBe(inits[i]);
      });
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  test('the regularizer of a loaded layer is live: same penalty, and it has the grid', async () => {
    const model = cases['custom registered regularizer'].make();
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    const reg = splines(loaded)[0].coefficientsRegularizer as unknown as ScaledL1;
    expect(reg).toBeInstanceOf(ScaledL1);
    expect(reg.scaleFactor).toBe(0.25);
    expect(reg.grid).toEqual(splines(model)[0].grid);
    const penalty = (m: tfl.LayersModel) => bits(tf.addN(splines(m)[0].calculateLosses()));
    expect(penalty(loaded)).toEqual(penalty(model));
    [model, loaded].forEach((m) => m.dispose());
  });
});

describe('camel-cased init names (what tfjs-layers makes of snake_case values on load)', () => {
  test.each([['leakyRelu', 'leaky_relu'], ['evenOdd', 'even_odd'], ['leaky_relu', 'leaky_relu'],
    ['relu', 'relu']])('init %s gives init %s', (given, canonical) => {
    const layer = splineActivation({init: given as 'relu'});
    expect(layer.init).toBe(canonical);
    expect(layer.getConfig().init).toBe(canonical);
  });

  test.each(['Leaky_Relu', 'leakyrelu', 'toString', 'constructor'])(
    '%s is still an unknown init', (init) => {
      expect(() => splineActivation({init: init as 'relu'})).toThrow(
        `splineActivation: unknown init "${init}"; expected one of leaky_relu, relu`);
    });
});
