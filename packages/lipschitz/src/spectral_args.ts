/** The Lipschitz arguments of the spectral layers, their defaults and their checks. */
import {ArgumentError} from '@deepspline/core';
import {checkArgsObject, checkFinite, checkInteger, describe} from '@deepspline/core/internal';
import type {ConvLayerArgs, DenseLayerArgs} from '@deepspline/layers/internal';
/** How a spectral layer orthonormalizes its normalised kernel. */
export type Orthonormalization = 'none' | 'bjorck';

/** The Lipschitz arguments shared by {@link spectralDense} and {@link spectralConv2d}. */
export interface SpectralArgs {
  /**
   * The layer's Lipschitz constant (l2) by construction: the normalised kernel times this.
   * @defaultValue 1
   */
  lipschitz?: number;
  /**
   * `'bjorck'`: after the division by the spectral norm, `bjorckSteps` Björck iterations
   * `W <- W (3/2 I - 1/2 W^T W)` push every singular value towards 1 (gradient-norm
   * preserving layers, Anil et al. 2019); `'none'`: spectral normalisation only.
   * @defaultValue 'none'
   */
  orthonormalize?: Orthonormalization;
  /**
   * Björck iterations at inference and at the first training step with `orthonormalize:
   * 'bjorck'` (an integer >= 1). Later training steps run `trainingBjorckSteps` iterations
   * from the kernel the previous step left (see {@link SpectralArgs.trainingBjorckSteps}).
   * @defaultValue 15
   */
  bjorckSteps?: number;
  /**
   * Björck iterations per training step after the first, with `orthonormalize: 'bjorck'` (an
   * integer >= 1). The layer's kernel is the orthonormal (polar) factor of its weight `W`,
   * which does not change when `W` is replaced by that factor; so each training step writes
   * the orthonormalized kernel back into `W` and the iterations accumulate across steps: one
   * iteration per step keeps `W` orthonormal to about `(3/4) e^2`, where `e` is how far one
   * optimizer step moved the squared singular values from 1. The gradient is the exact
   * gradient of the loss through the polar factor at an orthonormal kernel (the projection
   * of the kernel's gradient onto the orthonormal matrices' tangent space), not through the
   * unrolled iterations.
   * @defaultValue 1
   */
  trainingBjorckSteps?: number;
  /**
   * Power iterations per training step, warm-started from the persistent vector `u` (an
   * integer >= 1). Inference does not use this estimate (see {@link SpectralDense.effectiveKernel}).
   * @defaultValue 3
   */
  powerIterations?: number;
}

/** Arguments of {@link spectralDense}: tfjs's `dense` arguments plus {@link SpectralArgs}. */
export interface SpectralDenseArgs extends DenseLayerArgs, SpectralArgs {}

/**
 * Arguments of {@link spectralConv2d}: tfjs's `conv2d` arguments plus {@link SpectralArgs};
 * `dilationRate` must be 1 (tfjs 4.22 has no gradient for dilated convolutions).
 */
export interface SpectralConv2DArgs extends ConvLayerArgs, SpectralArgs {}

/** Björck steps when `bjorckSteps` is not given. */
export const DEFAULT_BJORCK_STEPS = 15;
/** Björck steps per training step after the first when `trainingBjorckSteps` is not given. */
export const DEFAULT_TRAINING_BJORCK_STEPS = 1;
/** Power iterations per training step when `powerIterations` is not given. */
export const DEFAULT_POWER_ITERATIONS = 3;

/** The spectral arguments, checked, with their defaults. */
export interface Resolved {
  lipschitz: number;
  orthonormalize: Orthonormalization;
  bjorckSteps: number;
  trainingBjorckSteps: number;
  powerIterations: number;
}

export function resolveSpectral(args: unknown, context: string): Resolved {
  const a = checkArgsObject(args, context) as SpectralArgs;
  const lipschitz = checkFinite('lipschitz', a.lipschitz ?? 1, context);
  if (!(lipschitz > 0)) throw new ArgumentError(`${context}: expected lipschitz > 0, got ${describe(a.lipschitz)}`);
  const orthonormalize = a.orthonormalize ?? 'none';
  if (orthonormalize !== 'none' && orthonormalize !== 'bjorck') {
    throw new ArgumentError(`${context}: expected orthonormalize 'none' or 'bjorck', got ${describe(a.orthonormalize)}`);
  }
  return {
    lipschitz, orthonormalize,
    bjorckSteps: checkInteger('bjorckSteps', a.bjorckSteps ?? DEFAULT_BJORCK_STEPS, 1, context),
    trainingBjorckSteps: checkInteger('trainingBjorckSteps', a.trainingBjorckSteps ?? DEFAULT_TRAINING_BJORCK_STEPS,
      1, context),
    powerIterations: checkInteger('powerIterations', a.powerIterations ?? DEFAULT_POWER_ITERATIONS, 1, context),
  };
}
