/**
 * The layer resolves and serializes `coefficientsRegularizer` / `coefficientsConstraint`
 * exactly as tfjs's own layers resolve `kernelRegularizer` / `kernelConstraint`
 * (src/serialization.ts repeats tfjs's unexported helpers): for every kind of input, a
 * `tf.layers.dense` built with the same value is the independent answer. Only the error
 * messages may differ, and a registered class that is not a regularizer (constraint), which
 * tfjs accepts and then fails on in `fit`, is refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Outcome = {accepted: false} | {accepted: true, sameInstance: boolean, config: unknown};

/**
 * tfjs mutates a config it is given (it adds `customObjects`): each side gets its own copy of
 * a plain config object; instances and objects with methods are passed as they are.
 */
function copy(x: unknown): unknown {
  const plain = x != null && typeof x === 'object' && x.constructor === Object &&
    Object.values(x).every((v) => typeof v !== 'function');
  return plain ? structuredClone(x) : x;
}

function outcome(make: () => {resolved: unknown, config: unknown}, input: unknown): Outcome {
  let got: {resolved: unknown, config: unknown};
  try { got = make(); } catch { return {accepted: false}; }
  return {accepted: true, sameInstance: got.resolved === input, config: got.config};
}

const RegularizerBase = Object.getPrototypeOf(tfl.regularizers.l1l2().constructor) as
  new () => object;
/** A registered regularizer, resolvable by class name. */
class Scaled extends RegularizerBase {
  static className = 'RulesTestScaled';
  readonly factor: number;
  constructor(args: {factor?: number} = {}) { super(); this.factor = args.factor ?? 2; }
  apply(x: tf.Tensor) { return tf.mul(this.factor, tf.sum(tf.abs(x))); }
  getConfig() { return {factor: this.factor}; }
  static fromConfig<T>(cls: new (c: object) => T, config: object): T { return new cls(config); }
}
tf.serialization.registerClass(Scaled as never);

const lookAlike = {apply: (x: tf.Tensor) => tf.sum(x), getConfig: () => ({}), getClassName: () => 'L1L2'};

const regularizers: Array<[string, unknown]> = [
  ['undefined', undefined], ['null', null],
  ['"l1l2"', 'l1l2'], ['"L1L2"', 'L1L2'], ['"l1"', 'l1'], ['"l2"', 'l2'], ['"nonNeg"', 'nonNeg'],
  ['a registered class name', 'RulesTestScaled'], ['"Nope"', 'Nope'],
  ['"constructor"', 'constructor'], ['"toString"', 'toString'], ['""', ''],
  ['{className, config}', {className: 'L1L2', config: {l1: 0.5}}],
  ['{className} of a registered class', {className: 'RulesTestScaled', config: {factor: 3}}],
  ['{className} without config', {className: 'L1L2'}],
  ['{config} without className', {config: {}}],
  ['an unknown {className}', {className: 'Nope', config: {}}],
  ['{}', {}], ['3', 3], ['true', true], ['a function', () => tfl.regularizers.l1()],
  ['an l1 instance', tfl.regularizers.l1({l1: 0.2})],
  ['an l1l2 instance', tfl.regularizers.l1l2({l1: 0.1, l2: 0.3})],
  ['a registered subclass instance', new Scaled({factor: 5})],
  ['a look-alike object', lookAlike],
  ['a constraint instance', tfl.constraints.nonNeg()],
];

const constraints: Array<[string, unknown]> = [
  ['undefined', undefined], ['null', null],
  ['"nonNeg"', 'nonNeg'], ['"maxNorm"', 'maxNorm'], ['"minMaxNorm"', 'minMaxNorm'],
  ['"unitNorm"', 'unitNorm'], ['"NonNeg"', 'NonNeg'], ['"MaxNorm"', 'MaxNorm'], ['"l1l2"', 'l1l2'],
  ['"Nope"', 'Nope'], ['"toString"', 'toString'], ['"hasOwnProperty"', 'hasOwnProperty'],
  ['{className, config}', {className: 'MaxNorm', config: {maxValue: 3, axis: 1}}],
  ['{className} without config', {className: 'MaxNorm'}],
  ['an unknown {className}', {className: 'Nope', config: {}}],
  ['{}', {}], ['7', 7],
  ['a maxNorm instance', tfl.constraints.maxNorm({maxValue: 2, axis: 1})],
  ['a nonNeg instance', tfl.constraints.nonNeg()],
  ['a look-alike object', {apply: (x: tf.Tensor) => x, getConfig: () => ({}), getClassName: () => 'NonNeg'}],
];

test.each(regularizers)('regularizer %s: resolved and serialized as tf.layers.dense does', (_name, input) => {
  const tfjs = outcome(() => {
    const d = tfl.layers.dense({units: 1, kernelRegularizer: copy(input) as never});
    return {resolved: (d as unknown as {kernelRegularizer: unknown}).kernelRegularizer,
      config: d.getConfig().kernelRegularizer};
  }, input);
  const ours = outcome(() => {
    const l = splineActivation({coefficientsRegularizer: copy(input) as never});
    return {resolved: l.coefficientsRegularizer ?? null, config: l.getConfig().coefficientsRegularizer};
  }, input);
  expect(ours).toEqual(tfjs);
});

test.each(constraints)('constraint %s: resolved and serialized as tf.layers.dense does', (_name, input) => {
  const tfjs = outcome(() => {
    const d = tfl.layers.dense({units: 1, kernelConstraint: copy(input) as never});
    return {resolved: (d as unknown as {kernelConstraint: unknown}).kernelConstraint,
      config: d.getConfig().kernelConstraint};
  }, input);
  const ours = outcome(() => {
    const l = splineActivation({coefficientsConstraint: copy(input) as never});
    return {resolved: l.coefficientsConstraint ?? null, config: l.getConfig().coefficientsConstraint};
  }, input);
  expect(ours).toEqual(tfjs);
});

test('the comparison is not vacuous: both accept and reject some inputs', () => {
  const accepted = (input: unknown) => {
    try { tfl.layers.dense({units: 1, kernelRegularizer: copy(input) as never}); return true; } catch { return false; }
  };
  expect(regularizers.map(([, x]) => accepted(x))).toEqual(expect.arrayContaining([true, false]));
});

test('our errors name the layer and the value', () => {
  expect(() => splineActivation({coefficientsRegularizer: 'l2'})).toThrow(
    /^splineActivation: unknown regularizer class "l2"; register it with tf.serialization.registerClass \(known regularizer classes: .*L1L2/);
  expect(() => splineActivation({coefficientsConstraint: {className: 'MaxNorm'} as never})).toThrow(
    /^splineActivation: expected a constraint \(an instance, a name or \{className, config\}\), got \{"className":"MaxNorm"\}$/);
});

/** Trains one step of a tf.layers.dense with the given options: the error tfjs gives, if any. */
async function tfjsFitError(options: object): Promise<string> {
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [2], ...options})]});
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const [x, y] = [tf.ones([2, 2]), tf.ones([2, 1])];
  try {
    await model.fit(x, y, {epochs: 1, verbose: 0});
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

const notRegularizers: Array<[string, unknown, string]> = [
  ['a layer {className, config}', {className: 'Dense', config: {units: 1}}, 'Dense'],
  ['a constraint class name', 'NonNeg', 'NonNeg'],
  ['a constraint {className, config}', {className: 'MaxNorm', config: {maxValue: 2, axis: 0}}, 'MaxNorm'],
];

test.each(notRegularizers)('regularizer %s: refused (tfjs accepts it and fails in fit)', async (_name, input, made) => {
  expect(await tfjsFitError({kernelRegularizer: copy(input)})).toMatch(/scalar/);
  expect(() => splineActivation({coefficientsRegularizer: copy(input) as never})).toThrow(
    `splineActivation: expected a regularizer (an instance, a name or {className, config}), got ` +
    `${JSON.stringify(input)}, which makes a ${made}, not a regularizer`);
});

test.each([
  ['a layer {className, config}', {className: 'Dense', config: {units: 1}}, 'Dense'],
  ['a regularizer class name', 'L1L2', 'L1L2'],
])('constraint %s: refused (tfjs accepts it)', (_name, input, made) => {
  expect(() => tfl.layers.dense({units: 1, kernelConstraint: copy(input) as never})).not.toThrow();
  expect(() => splineActivation({coefficientsConstraint: copy(input) as never})).toThrow(
    `splineActivation: expected a constraint (an instance, a name or {className, config}), got ` +
    `${JSON.stringify(input)}, which makes a ${made}, not a constraint`);
});
