/**
 * `Householder` (deel-lip's; Singla, Singla, Feizi, "Improved deterministic l2 robustness on
 * CIFAR-10 and CIFAR-100", ICLR 2022): a learnable reflection of each pair of channels on one
 * side of a line, a 1-Lipschitz (l2), gradient-norm-preserving activation.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import type {Initializer} from '@tensorflow/tfjs-layers/dist/initializers';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {argsObject, channelsLastArg, firstInput, singleShape} from './layer_args.js';
import {take} from './reads.js';
import {registerLipschitzRule} from './rule_registry.js';

/** Arguments of {@link householder}. */
export interface HouseholderArgs extends LayerArgs {
  /** Only `'channelsLast'`. @defaultValue 'channelsLast' */
  dataFormat?: 'channelsLast';
  /**
   * Initializer of the angles `theta` (one per pair of channels): a tfjs initializer or its
   * name. The default, the constant pi/2, makes the layer MaxMin of the pairs (deel-lip's).
   * @defaultValue pi / 2
   */
  thetaInitializer?: Initializer | string;
}

const CONTEXT = 'householder';

/**
 * Householder activation (deel-lip's `Householder`): the channels are split in halves
 * `z = (z1, z2)` and every pair `(z1_i, z2_i)` with unit normal `n = (sin(theta_i / 2),
 * -cos(theta_i / 2))` becomes `z - 2 relu(n . z) n`: kept where `n . z <= 0`, reflected
 * across the line `n . z = 0` (by `[[cos, sin], [sin, -cos]](theta_i)`) elsewhere. The angles
 * `theta` (`[channels / 2]`) are trainable. Continuous and, on each side, the identity or a
 * reflection: 1-Lipschitz in l2 and gradient-norm preserving. `exportToStandardLayers` writes
 * it as `x + Dense(ReLU(Dense(x)))` (`Dense` kernels from the normals, an `Add`). The number of
 * channels must be even.
 */
export class Householder extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'Householder';
  private theta: LayerVariable | null = null;
  private readonly thetaInitializer: Initializer;

  constructor(args: HouseholderArgs = {}) {
    super(argsObject<HouseholderArgs>(args, CONTEXT));
    channelsLastArg(args.dataFormat, CONTEXT);
    this.thetaInitializer = thetaInitializerArg(args.thetaInitializer);
    this.inputSpec = [{minNDim: 2}];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1];
    if (channels == null || !(channels > 0) || channels % 2 !== 0) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': expected an even, known number of channels (the last axis of ` +
        `the input), got input shape ${describe(shape)}`);
    }
    this.theta = this.addWeight('theta', [channels / 2], 'float32', this.thetaInitializer);
    this.inputSpec = [{minNDim: 2, axes: {[-1]: channels}}];
    this.built = true;
  }

  /**
   * The unit normals of the pairs' lines as float32 tensors `[sin(theta / 2), -cos(theta / 2)]`
   * (each `[channels / 2]`), the values `call` uses. The caller disposes them.
   */
  normals(): [Tensor, Tensor] {
    if (this.theta == null) throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an input first`);
    const theta = this.theta;
    return tf.tidy(() => {
      const half = tf.mul(theta.read(), 0.5);
      return [tf.sin(half), tf.neg(tf.cos(half))];
    }) as [Tensor, Tensor];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const [n1, n2] = this.normals();
      const [z1, z2] = tf.split(x, 2, -1);
      const t = tf.relu(tf.add(tf.mul(z1!, n1), tf.mul(z2!, n2)));
      // z + t (-2 n): the order of the standard export's Dense + Add (bit for bit the same)
      return tf.concat([tf.add(z1!, tf.mul(t, tf.mul(n1, -2))), tf.add(z2!, tf.mul(t, tf.mul(n2, -2)))], -1);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), dataFormat: 'channelsLast',
      thetaInitializer: {className: this.thetaInitializer.getClassName(), config: this.thetaInitializer.getConfig()}};
  }
}
tf.serialization.registerClass(Householder);

/** Whether `v` is a tfjs initializer (tfjs-layers does not export the class to test with instanceof). */
function isInitializer(v: unknown): v is Initializer {
  const i = v as Partial<Initializer> | null;
  return i != null && typeof i === 'object' && typeof i.apply === 'function' && typeof i.getClassName === 'function' &&
    typeof i.getConfig === 'function';
}

/** An initializer from an instance, a `tf.initializers` name or a saved `{className, config}`. */
function thetaInitializerArg(value: unknown): Initializer {
  if (value == null) return tfl.initializers.constant({value: Math.PI / 2});
  if (isInitializer(value)) return value;
  const factories = tfl.initializers as unknown as Record<string, ((a?: object) => Initializer) | undefined>;
  if (typeof value === 'string' && typeof factories[value] === 'function') return factories[value]!({});
  const saved = value as {className?: unknown, config?: unknown};
  const entry = typeof saved.className === 'string' ?
    tf.serialization.SerializationMap.getMap().classNameMap[saved.className] : undefined;
  if (entry != null) {
    const made = entry[1](entry[0], (saved.config ?? {}) as tf.serialization.ConfigDict);
    if (isInitializer(made)) return made;
  }
  throw new ArgumentError(`${CONTEXT}: expected thetaInitializer to be an initializer, a tf.initializers name such as ` +
    `'zeros' or 'randomUniform', or {className, config}, got ${describe(value)}`);
}

// Each pair is z -> z - 2 relu(n . z) n: the identity where n . z <= 0 and A = I - 2 n n^T
// elsewhere, continuous across n . z = 0 (relu is 0 there). Along any segment the pieces add
// up, so the Lipschitz constant (any l_p) is max(|I|_p, |A|_p) per pair, and the pairs are
// disjoint coordinates (block-diagonal: the max over pairs). With the float32 normals the
// layer uses, |n|^2 = 1 + d; A has eigenvalues 1 and 1 - 2 |n|^2, so |A|_2 = max(1, |1 - 2|n|^2|);
// |A|_1 = |A|_inf = max column sum of |I - 2 n n^T|. Computed in float64, rounded up.
registerLipschitzRule(Householder.className, function* (layer, context) {
  const [n1t, n2t] = (layer as Householder).normals();
  const n1 = yield* take(n1t);
  const n2 = yield* take(n2t);
  let factor = 1;
  for (let i = 0; i < n1.length; ++i) {
    const [a, b] = [n1[i]!, n2[i]!];
    const pairFactor = context.norm === 2 ? Math.abs(1 - 2 * (a * a + b * b)) :
      Math.max(Math.abs(1 - 2 * a * a) + Math.abs(2 * a * b), Math.abs(2 * a * b) + Math.abs(1 - 2 * b * b));
    factor = Math.max(factor, pairFactor);  // NaN stays NaN
  }
  return factor * (1 + 2 ** -48);
});

/**
 * As standard layers: `t = ReLU(Dense(x))` with the `[c, c/2]` kernel of the normals (row `i`
 * `n1_i`, row `c/2 + i` `n2_i` in column `i`), then `x + Dense(t)` with the `[c/2, c]` kernel
 * `-2 n^T`. The zero products add nothing, so each sum is the layer's two-term sum.
 */
function exportHouseholder(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const x = inputs[0]!;
  const c = x.shape[x.shape.length - 1]!;
  const half = c / 2;
  const [n1t, n2t] = (layer as Householder).normals();
  const [n1, n2] = [n1t.dataSync(), n2t.dataSync()];
  tf.dispose([n1t, n2t]);
  const down = new Float32Array(c * half);
  const up = new Float32Array(half * c);
  for (let i = 0; i < half; ++i) {
    down[i * half + i] = n1[i]!;
    down[(half + i) * half + i] = n2[i]!;
    up[i * c + i] = -2 * n1[i]!;
    up[i * c + half + i] = -2 * n2[i]!;
  }
  const name = (suffix: string) => context.uniqueName(`${layer.name}_${suffix}`);
  const project = tfl.layers.dense({units: half, useBias: false, activation: 'relu', name: name('project')});
  const t = project.apply(x) as tfl.SymbolicTensor;
  const reflect = tfl.layers.dense({units: c, useBias: false, name: name('reflect')});
  const r = reflect.apply(t) as tfl.SymbolicTensor;
  const weights = [tf.tensor2d(down, [c, half]), tf.tensor2d(up, [half, c])];
  project.setWeights([weights[0]!]);
  reflect.setWeights([weights[1]!]);
  tf.dispose(weights);
  return tfl.layers.add({name: context.uniqueName(layer.name)}).apply([x, r]) as tfl.SymbolicTensor;
}
registerStandardExport(Householder.className, exportHouseholder);

/**
 * Creates a {@link Householder} layer.
 *
 * @example
 * ```ts
 * const layer = householder();   // theta = pi/2: MaxMin of the pairs (z1_i, z2_i)
 * layer.apply(tf.tensor2d([[1, 5, 3, 2]])).print();   // about [[1, 2, 3, 5]] (float32 cos, sin)
 * ```
 */
export function householder(args: HouseholderArgs = {}): Householder {
  return new Householder(args);
}
