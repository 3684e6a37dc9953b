/**
 * deel-lip's `LorthRegularizer` (`deel/lip/regularizers.py`, its `Lorth2D` computation): the
 * orthogonality penalty of 2-D convolution kernels of Wang et al. (2020) and Achour et al.
 * (2022), zero exactly when the (circularly padded) convolution is orthogonal.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Scalar, Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkInteger, checkNonNegative, describe} from '@deepspline/core/internal';
import {REGULARIZER_BASE} from '@deepspline/layers/internal';

/** Arguments of {@link lorthRegularizer}. */
export interface LorthRegularizerArgs {
  /**
   * The kernel's shape `[k, k, inChannels, outChannels]` (odd `k`), checked when given;
   * otherwise taken from the kernel at every call.
   * @defaultValue the kernel's shape
   */
  kernelShape?: number[] | null;
  /**
   * The convolution's stride (an integer >= 1).
   * @defaultValue 1
   */
  stride?: number;
  /**
   * The weight of the penalty (finite, >= 0).
   * @defaultValue 1
   */
  lambdaLorth?: number;
  /**
   * The convolution's rank: only 2 is supported, as in deel-lip.
   * @defaultValue 2
   */
  dim?: number;
  /**
   * Whether the kernel is a transposed convolution's (`[k, k, outChannels, inChannels]` in
   * tfjs), which swaps the roles of the channels in the penalty's offset.
   * @defaultValue false
   */
  convTranspose?: boolean;
}

interface LorthTerms {padding: number, delta: number}

/** The padding and the offset `delta` of the penalty for a kernel shape, after deel-lip's checks. */
function lorthTerms(shape: number[], stride: number, convTranspose: boolean, context: string): LorthTerms {
  if (shape.length !== 4 || shape[0] !== shape[1] || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(`${context}: expected a square 2-D convolution kernel shape [k, k, inChannels, outChannels], ` +
      `got ${describe(shape)}`);
  }
  const [r, , c, m] = shape as [number, number, number, number];
  if (r % 2 !== 1) throw new ArgumentError(`${context}: expected an odd kernel size, got ${r} (shape ${describe(shape)})`);
  const s2 = stride * stride;
  if (c * s2 >= m) {
    if (m > c * r * r) {
      throw new UnsupportedError(`${context}: no orthogonal convolution exists for kernel ${describe(shape)} at stride ` +
        `${stride} (row-orthogonal case: outChannels ${m} > inChannels * k^2 = ${c * r * r})`);
    }
  } else if (stride > r) {
    throw new UnsupportedError(`${context}: no orthogonal convolution exists for kernel ${describe(shape)} at stride ` +
      `${stride} (column-orthogonal case: stride > kernel size ${r})`);
  }
  const delta = Math.max(0, convTranspose ? c - s2 * m : m - s2 * c);
  return {padding: Math.floor((r - 1) / stride) * stride, delta};
}

/** `lambdaLorth * (||conv(K, K) - I_center||^2 - delta)` (see {@link lorthRegularizer}). */
export class LorthRegularizer extends REGULARIZER_BASE {
  /** Class name used for serialization. */
  static className = 'LorthRegularizer';
  /** The kernel shape checked at construction, or `null`. */
  readonly kernelShape: number[] | null;
  /** The convolution's stride. */
  readonly stride: number;
  /** The weight of the penalty. */
  readonly lambdaLorth: number;
  /** Whether the kernel is a transposed convolution's. */
  readonly convTranspose: boolean;

  /** See {@link lorthRegularizer}. */
  constructor(args?: LorthRegularizerArgs) {
    super();
    const context = 'lorthRegularizer';
    checkArgsObject(args ?? {}, context, 'kernelShape, stride, lambdaLorth, dim, convTranspose');
    if ((args?.dim ?? 2) !== 2) {
      throw new UnsupportedError(`${context}: only 2-D convolutions are supported (dim 2), got dim ${describe(args?.dim)}`);
    }
    this.stride = checkInteger('stride', args?.stride ?? 1, 1, context);
    this.lambdaLorth = checkNonNegative('lambdaLorth', args?.lambdaLorth ?? 1, context);
    if (args?.convTranspose !== undefined && typeof args.convTranspose !== 'boolean') {
      throw new ArgumentError(`${context}: expected convTranspose to be true or false, got ${describe(args.convTranspose)}`);
    }
    this.convTranspose = args?.convTranspose ?? false;
    this.kernelShape = args?.kernelShape == null ? null : [...args.kernelShape];
    if (this.kernelShape != null) lorthTerms(this.kernelShape, this.stride, this.convTranspose, context);
  }

  /** The penalty of a kernel `[k, k, inChannels, outChannels]`, a scalar. */
  apply(w: Tensor): Scalar {
    const context = 'lorthRegularizer';
    if (!(w instanceof tf.Tensor)) throw new ArgumentError(`${context}: expected a kernel tensor, got ${describe(w)}`);
    if (this.kernelShape != null && !tf.util.arraysEqual(this.kernelShape, w.shape)) {
      throw new ArgumentError(`${context}: the regularizer was made for kernel shape ${describe(this.kernelShape)}, got ` +
        `a kernel of shape ${describe(w.shape)}`);
    }
    const {padding, delta} = lorthTerms(w.shape, this.stride, this.convTranspose, context);
    const m = w.shape[3]!;
    return tf.tidy(() => {
      // every output filter as an image [m, k, k, c], padded, convolved with the kernel: [m, o, o, m]
      const images = tf.pad(tf.transpose(w, [3, 0, 1, 2]), [[0, 0], [padding, padding], [padding, padding], [0, 0]]);
      const out = tf.conv2d(images as Tensor4D, w as Tensor4D, this.stride, 'valid');
      const o = out.shape[1]!;
      const center = Math.floor(o / 2);
      // the target: the identity between filters at the centre shift, zero elsewhere
      const shift = tf.reshape(tf.oneHot(tf.tensor1d([center * o + center], 'int32'), o * o), [1, o, o, 1]);
      const target = tf.mul(tf.reshape(tf.eye(m), [m, 1, 1, m]), shift);
      return tf.mul(tf.sub(tf.sum(tf.square(tf.sub(out, target))), delta), this.lambdaLorth) as Scalar;
    });
  }

  /** The config (`kernel_shape`, `stride`, `lambda_lorth`, `dim`, `conv_transpose`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {kernelShape: this.kernelShape, stride: this.stride, lambdaLorth: this.lambdaLorth, dim: 2,
      convTranspose: this.convTranspose};
  }
}

tf.serialization.registerClass(LorthRegularizer);

/**
 * deel-lip's `LorthRegularizer` (with its `Lorth2D` computation): for a 2-D convolution kernel
 * `K` of shape `[k, k, c, m]` (odd `k`) and stride `s`, `lambdaLorth * (||conv(K, K) -
 * I_center||_F^2 - delta)`, where `conv(K, K)` convolves every output filter (zero-padded by
 * `floor((k - 1) / s) s`) with the kernel, the target is the identity between filters at the
 * centre shift, and `delta = max(0, m - s^2 c)` (`max(0, c - s^2 m)` for a transposed
 * convolution) the penalty's minimum. Zero exactly for an orthogonal convolution (Achour et
 * al. 2022); construction fails for shapes where none exists, as in deel-lip. A soft penalty:
 * the certificates still come from {@link lipschitzBound}.
 *
 * @example
 * ```ts
 * const conv = tf.layers.conv2d({filters: 16, kernelSize: 3, padding: 'same',
 *   kernelRegularizer: lorthRegularizer({lambdaLorth: 0.1})});
 * ```
 */
export function lorthRegularizer(args?: LorthRegularizerArgs): LorthRegularizer {
  return new LorthRegularizer(args);
}
