/**
 * The numerics of the spectral layers, apart from the thin layer classes that call them (as
 * deel-lip's `normalizers.py`): the spectral norm by power iteration with a persistent vector,
 * Björck orthonormalization and its training step, and the cached certified kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {ArgumentError, DeepSplineError, NonFiniteError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {matrixNorm} from './matrix_norm.js';
import {PowerIterationState} from './power_iteration.js';
import type {TensorReads} from './reads.js';
import type {Resolved} from './spectral_args.js';
/** The identity with a zero gradient (tfjs has no `stopGradient` op). */
const stopGradient = tf.customGrad(((x: Tensor) =>
  ({value: tf.clone(x), gradFunc: (dy: Tensor) => tf.zerosLike(dy)})) as never) as unknown as (x: Tensor) => Tensor;

/** `(m + m^T) / 2`. */
function sym(m: Tensor2D): Tensor2D {
  return tf.mul(tf.add(m, tf.transpose(m)), 0.5) as Tensor2D;
}

function l2normalize(v: Tensor): Tensor {
  return tf.div(v, tf.add(tf.norm(v), 1e-12));
}

/**
 * Björck orthonormalization (order 1) of a matrix `[rows, cols]`, on the smaller Gram matrix.
 * For singular values `s` in `[0, sqrt(3))` each step maps `s -> s (3 - s^2) / 2`, which
 * never exceeds 1 (`1 - s (3 - s^2) / 2 = (s - 1)^2 (s + 2) / 2 >= 0`).
 */
export function bjorck(w: Tensor2D, steps: number): Tensor2D {
  const [rows, cols] = w.shape;
  let x = w;
  for (let i = 0; i < steps; ++i) {
    x = cols <= rows ?
      tf.sub(tf.mul(x, 1.5), tf.mul(tf.matMul(x, tf.matMul(x, x, true, false)), 0.5)) :
      tf.sub(tf.mul(x, 1.5), tf.mul(tf.matMul(tf.matMul(x, x, false, true), x), 0.5));
  }
  return x;
}

/**
 * The state and arithmetic shared by both spectral layers: the kernel seen as a matrix
 * `[fanIn, units]`, its persistent power-iteration vector `u` (`[1, units]`, a non-trainable
 * weight saved with the model), and the cached certified kernel for inference.
 */
export class SpectralCore {
  private cached: {kernel: Tensor, key: unknown[]} | null = null;
  /** Whether a Björck training step ran (later steps start from its orthonormal kernel). */
  private warm = false;
  private readonly state = new PowerIterationState();
  /** The persistent power-iteration vector, `[1, units]`, added by {@link SpectralCore.build}. */
  private u: LayerVariable | null = null;

  constructor(readonly options: Resolved, private readonly name: () => string,
      /** sqrt of the most windows an input lies in: ||conv|| <= coeff * ||kernel matrix||. */
      private readonly coeff: number) {}

  /**
   * Adds the vector `u` (`[1, units]`, non-trainable) as the layer's weight `'u'` through its
   * protected `addWeight`, once: the layer's `build` calls this after its own.
   */
  build(addWeight: (name: string, shape: number[], dtype: 'float32', initializer: ReturnType<typeof tfl.initializers.randomNormal>,
      regularizer: undefined, trainable: boolean) => LayerVariable, units: number): void {
    this.u ??= addWeight('u', [1, units], 'float32', tfl.initializers.randomNormal({mean: 0, stddev: 1, seed: 1}),
      undefined, false);
  }

  /**
   * Training: normalise by a power-iteration estimate updated in place (differentiable), or
   * with Björck, see {@link SpectralCore.bjorckTraining}. `write` replaces the layer's weight
   * by a kernel (matrix view) of the same function.
   */
  trainingKernel(w: Tensor2D, write: (kernel: Tensor2D) => void): Tensor2D {
    const u = this.u!;
    let uv = stopGradient(tf.transpose(u.read())) as Tensor2D;  // [units, 1]
    let v: Tensor2D = uv;
    const ws = this.options.orthonormalize === 'bjorck' ? stopGradient(w) as Tensor2D : w;
    for (let i = 0; i < this.options.powerIterations; ++i) {
      v = l2normalize(tf.matMul(ws, uv)) as Tensor2D;             // [fanIn, 1]
      uv = l2normalize(tf.matMul(ws, v, true, false)) as Tensor2D;  // [units, 1]
    }
    uv = stopGradient(uv) as Tensor2D;
    v = stopGradient(v) as Tensor2D;
    u.write(tf.transpose(uv));
    const sigma = tf.sum(tf.mul(v, tf.matMul(ws, uv)));
    const wn = this.options.orthonormalize === 'bjorck' ? this.bjorckTraining(w, sigma, write) :
      tf.div(w, tf.maximum(sigma, 1e-12)) as Tensor2D;
    return tf.mul(wn, this.options.lipschitz / this.coeff) as Tensor2D;
  }

  /**
   * The orthonormalized kernel of a training step: `steps` Björck iterations from `w / sigma`
   * (`bjorckSteps` at the layer's first training step, `trainingBjorckSteps` after), written
   * back into the weight at the weight's scale `sigma` (the polar factor of `W` is that of
   * `sigma` times its own polar factor, so the function is unchanged and the next step starts
   * nearly orthonormal; keeping the scale keeps the optimizer's steps relative to the weight
   * as they were without the write-back: written at scale 1, the 2-D benchmark's s_shape
   * GroupSort net certified 55.6 % at r = 0.05 against 59.6 % (5 seeds), at the weight's
   * scale 59.7 %). The gradient is that
   * of the polar factor at an orthonormal `Q`: for `Q` with orthonormal columns, the
   * projection `G - Q sym(Q^T G)` of the kernel's gradient `G` onto the tangent space of the
   * orthonormal matrices (rows: `G - sym(G Q^T) Q`), divided by `sigma`. Cost per step: two
   * products of the kernel's size with its smaller Gram matrix forward, two backward,
   * against `6 steps` for gradients through unrolled iterations.
   */
  private bjorckTraining(w: Tensor2D, sigma: Tensor, write: (kernel: Tensor2D) => void): Tensor2D {
    const steps = this.warm ? this.options.trainingBjorckSteps : this.options.bjorckSteps;
    this.warm = true;
    const [rows, cols] = w.shape;
    const s = tf.maximum(sigma, 1e-12);
    const polar = tf.customGrad(((x: Tensor2D, save: (t: Tensor[]) => void) => {
      const q = bjorck(tf.div(x, s) as Tensor2D, steps);
      write(tf.mul(q, s) as Tensor2D);
      save([q, s]);  // the gradient runs after call's tidy has disposed s
      return {
        value: q,
        gradFunc: (dy: Tensor2D, saved: Tensor[]) => {
          const [qs, ss] = saved as [Tensor2D, Tensor];
          const g = cols <= rows ?
            tf.sub(dy, tf.matMul(qs, sym(tf.matMul(qs, dy, true, false)))) :
            tf.sub(dy, tf.matMul(sym(tf.matMul(dy, qs, false, true)), qs));
          return tf.div(g, ss);
        },
      };
    }) as never) as unknown as (x: Tensor2D) => Tensor2D;
    return polar(w);
  }

  /**
   * Inference: normalise by a certified upper bound of the spectral norm (float64 Lanczos,
   * proven by {@link matrixNorm}), optionally orthonormalize, and scale to `target =
   * lipschitz / coeff` (rounded down). The float32 products round each entry to nearest, which
   * left the kernel up to 1e-7 above `target`; so the certified norm of the float32 kernel
   * itself is checked, and the kernel shrunk (by `target / norm` and a margin that grows from
   * 2^-22) until it is `<= target`: the deployed kernel's exact norm never exceeds it. Cached
   * until the kernel or `u` is assigned. As {@link TensorReads} (run with `runSync` or
   * `runAsync`); throws at once, not at the first read, when the layer is not built.
   */
  inferenceKernelReads<T extends Tensor>(kernel: LayerVariable | null, toMatrix: (t: Tensor) => Tensor2D,
      fromMatrix: (t: Tensor2D) => T): TensorReads<T> {
    if (kernel == null || this.u == null) {
      throw new ArgumentError(`${this.name()}: the layer is not built yet; call it on an input first`);
    }
    return this.certifiedKernelReads(kernel, this.u, toMatrix, fromMatrix);
  }

  private *certifiedKernelReads<T extends Tensor>(kernel: LayerVariable, u: LayerVariable,
      toMatrix: (t: Tensor) => Tensor2D, fromMatrix: (t: Tensor2D) => T): TensorReads<T> {
    const key = [kernel.read().dataId, u.read().dataId, this.options];
    if (this.cached != null && this.cached.key.every((k, i) => k === key[i])) return this.cached.kernel as T;
    // a copy of the kernel of now (the key's), whatever the variable is assigned meanwhile
    const w = tf.tidy(() => tf.clone(toMatrix(kernel.read())));
    let wn: Tensor2D | null = null;
    try {
      const [rows, cols] = w.shape;
      const sigma = matrixNorm(yield w, rows, cols, 2, {state: this.state}, 'kernel');
      if (!Number.isFinite(sigma)) {
        throw new NonFiniteError(`${this.name()}: the kernel's spectral norm is ${describe(sigma)}; are its weights NaN or Infinite?`);
      }
      // lipschitz / coeff rounds by 2^-53 and coeff (a square root) by as much
      const target = this.options.lipschitz / this.coeff * (1 - 2 ** -50);
      wn = tf.tidy(() => this.options.orthonormalize === 'bjorck' ?
        tf.mul(bjorck(tf.div(w, Math.max(sigma, 1e-12)) as Tensor2D, this.options.bjorckSteps), target) as Tensor2D :
        tf.mul(w, target / Math.max(sigma, 1e-12)) as Tensor2D);
      for (let attempt = 0; ; ++attempt) {
        const norm = matrixNorm(yield wn, rows, cols, 2, {state: this.state}, 'deployed');
        if (norm <= target) break;
        if (attempt === 8 || !Number.isFinite(norm)) {
          throw new DeepSplineError(`${this.name()}: could not scale the kernel's spectral norm to <= ${target}, got ${norm}`);
        }
        const shrunk = tf.mul(wn, target / norm * (1 - 2 ** (2 * attempt - 22))) as Tensor2D;
        wn.dispose();
        wn = shrunk;
      }
      const last = wn;
      // kept: `call` runs this inside its tidy, and the cache outlives it
      const next = tf.keep(tf.tidy(() => fromMatrix(tf.clone(last))));
      this.dispose();
      this.cached = {kernel: next, key};
      return next;
    } finally {
      w.dispose();
      wn?.dispose();
    }
  }

  dispose(): void {
    if (this.cached != null) {
      this.cached.kernel.dispose();
      this.cached = null;
    }
  }

  config(): tf.serialization.ConfigDict {
    const {lipschitz, orthonormalize, bjorckSteps, trainingBjorckSteps, powerIterations} = this.options;
    return {lipschitz, orthonormalize, bjorckSteps, trainingBjorckSteps, powerIterations};
  }
}
