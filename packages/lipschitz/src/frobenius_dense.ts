/**
 * `FrobeniusDense` (deel-lip's): a dense layer whose kernel is divided by its Frobenius norm
 * (or each column by its own norm) inside `call`.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import type {Dense, DenseLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/core';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import {argsObject, firstInput, lipschitzArg} from './layer_args.js';
import {matrixNorm} from './matrix_norm.js';
import {take} from './reads.js';
import {activationConstant} from './activation_constants.js';
import {registerLipschitzRule} from './rule_registry.js';
import {exportWithKernel, fields, registered} from './kernel_layers.js';

/** Arguments of {@link frobeniusDense}: tfjs's `dense` arguments plus `lipschitz`, `disjointNeurons`. */
export interface FrobeniusDenseArgs extends DenseLayerArgs {
  /** The scale of the normalised kernel. @defaultValue 1 */
  lipschitz?: number;
  /**
   * `true` (deel-lip's default): every column (output unit) divided by its own l2 norm, so
   * each output is `lipschitz`-Lipschitz on its own, but the layer as a whole is only bounded
   * by `lipschitz * ||W_normalised||_2 <= lipschitz * sqrt(units)`. `false`: the kernel divided
   * by its Frobenius norm, `>= ||W||_2`, so the layer is `lipschitz`-Lipschitz.
   * @defaultValue true
   */
  disjointNeurons?: boolean;
}

const CONTEXT = 'frobeniusDense';
const DenseBase = registered<typeof Dense>('Dense');

/**
 * A dense layer with a Frobenius-normalised kernel (deel-lip's `FrobeniusDense`):
 * `y = activation(x (lipschitz * W / ||W||) + b)`, `||W||` the Frobenius norm
 * (`disjointNeurons: false`) or each column's l2 norm (`true`, the default), in training and
 * at inference, gradients through the normalisation. With one unit both are the same and the
 * layer is exactly `lipschitz`-Lipschitz (the cheap alternative to `spectralDense` for a
 * binary logit). {@link lipschitzBound} certifies it by the exact norm of
 * {@link FrobeniusDense.effectiveKernel} (with several disjoint units it can exceed `lipschitz`,
 * up to `sqrt(units)` times). Exports to a standard `Dense` with that kernel.
 */
export class FrobeniusDense extends DenseBase {
  /** Class name used for serialization. */
  static override className = 'FrobeniusDense';
  /** The scale of the normalised kernel. */
  readonly lipschitz: number;
  /** Whether each column is normalised on its own. */
  readonly disjointNeurons: boolean;

  constructor(args: FrobeniusDenseArgs) {
    const a = argsObject<FrobeniusDenseArgs>(args, CONTEXT);
    const lipschitz = lipschitzArg(a.lipschitz, CONTEXT);
    if (a.disjointNeurons != null && typeof a.disjointNeurons !== 'boolean') {
      throw new ArgumentError(`${CONTEXT}: expected disjointNeurons to be a boolean, got ${describe(a.disjointNeurons)}`);
    }
    super(a);
    this.lipschitz = lipschitz;
    this.disjointNeurons = a.disjointNeurons ?? true;
  }

  /**
   * The kernel `call` uses, `[in, units]`: `lipschitz * W / ||W||` (differentiable; the
   * caller disposes it).
   */
  effectiveKernel(): Tensor2D {
    const kernel = fields(this).kernel;
    if (kernel == null) throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an input first`);
    return tf.tidy(() => {
      const w = kernel.read() as Tensor2D;
      const norm = this.disjointNeurons ? tf.norm(w, 'euclidean', 0, true) : tf.norm(w);
      return tf.mul(tf.div(w, tf.maximum(norm, 1e-12)), this.lipschitz) as Tensor2D;
    });
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const w = this.effectiveKernel();
      const inDim = x.shape[x.shape.length - 1]!;
      const {units, bias, activation} = fields(this);
      let y: Tensor = x.rank === 2 ? tf.matMul(x as Tensor2D, w) :
        tf.reshape(tf.matMul(tf.reshape(x, [-1, inDim]) as Tensor2D, w), [...x.shape.slice(0, -1), units]);
      if (bias != null) y = tf.add(y, bias.read());
      return activation.apply(y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), lipschitz: this.lipschitz, disjointNeurons: this.disjointNeurons};
  }
}
tf.serialization.registerClass(FrobeniusDense);

// The proven norm (any l_p) of the kernel `call` uses, times the activation's constant.
registerLipschitzRule(FrobeniusDense.className, function* (layer, context) {
  const l = layer as FrobeniusDense;
  const act = context.activationFactor(activationConstant(fields(l).activation, layer));
  const w = l.effectiveKernel();
  const [rows, cols] = w.shape;
  return matrixNorm(yield* take(w), rows, cols, context.norm, context.powerIteration, context.key) * act;
});

// The layer as a standard `Dense` with {@link FrobeniusDense.effectiveKernel} (same outputs).
registerStandardExport(FrobeniusDense.className, exportWithKernel(DenseBase, () => ['lipschitz', 'disjointNeurons'],
  false));

/**
 * Creates a {@link FrobeniusDense} layer: `tf.layers.dense` arguments plus `lipschitz` and
 * `disjointNeurons`.
 *
 * @example
 * ```ts
 * const logit = frobeniusDense({units: 1});   // a 1-Lipschitz binary logit
 * ```
 */
export function frobeniusDense(args: FrobeniusDenseArgs): FrobeniusDense {
  return new FrobeniusDense(args);
}
