/**
 * `@deepspline/lipschitz`: Lipschitz control for deep spline networks in TensorFlow.js —
 * TV(2)/BV(2) regularizers of spline activations, upper bounds (reference and operator-norm)
 * and empirical lower bounds of a model's Lipschitz constant, a `fit` callback that monitors
 * or constrains the bound, whole-model sparsification, and certified l2 radii.
 *
 * @packageDocumentation
 */
export {BV2Regularizer, SplineRegularizer, TV2Regularizer, bv2Regularizer, tv2Regularizer} from './regularizers.js';
export type {SplineRegularizerArgs} from './regularizers.js';
export {lipschitzBound, lipschitzBoundAsync} from './bound.js';
export type {LayerFactor, LipschitzBound, LipschitzBoundOptions} from './bound.js';
export {ACTIVATION_LIPSCHITZ, BOUND_METHODS, activationConstant, convolutionNorm, lipschitzRule,
  lipschitzRuleNames, registerLipschitzRule} from './rules.js';
export type {ActivationLike, BoundMethod, ConvKernels, LipschitzFactor, LipschitzRule,
  LipschitzRuleContext} from './rules.js';
export {PowerIterationState, matrixNorm, tensorOpNorm} from './linalg.js';
export type {LinearTensorOp, Norm, PowerIterationOptions} from './linalg.js';
export type {TensorReads} from './reads.js';
export {empiricalLipschitz} from './empirical.js';
export type {EmpiricalLipschitz, EmpiricalLipschitzOptions} from './empirical.js';
export {LipschitzCallback, lipschitzCallback} from './callback.js';
export type {LipschitzCallbackArgs, LipschitzRecord} from './callback.js';
export {modelActiveKnots, sparsify, splineLayers} from './sparsity.js';
export {TV2Prox, tv2Prox} from './prox.js';
export type {TV2ProxArgs} from './prox.js';
export {TV2ProximalOptimizer, tv2ProximalOptimizer} from './prox_optimizer.js';
export type {TV2ProximalOptimizerArgs} from './prox_optimizer.js';
export type {FoundSplineLayer, LayerKnots, ModelKnots} from './sparsity.js';
export {certifiedAccuracy, certifiedAccuracyAsync, certifiedRadius, certifiedRadiusAsync} from './certify.js';
export type {CertifiedAccuracy, CertifiedAccuracyOptions, CertifiedRadius,
  CertifiedRadiusOptions} from './certify.js';
export {DEFAULT_BJORCK_STEPS, DEFAULT_POWER_ITERATIONS, DEFAULT_TRAINING_BJORCK_STEPS, SpectralConv2D, SpectralDense, prepareInference,
  spectralConv2d, spectralDense} from './spectral.js';
export type {Orthonormalization, SpectralArgs, SpectralConv2DArgs, SpectralDenseArgs} from './spectral.js';
/**
 * Losses for Lipschitz classifiers (deel-lip's): `losses.tauBinaryCrossentropy({tau})`,
 * `losses.tauCategoricalCrossentropy({tau})`, `losses.hingeMargin({margin})`,
 * `losses.multiclassHinge({margin})`, `losses.hkr({alpha, margin})`,
 * `losses.multiclassHkr({alpha, margin})`, for `model.compile({loss})`.
 */
export * as losses from './losses.js';
/** Accuracy metrics on logits for `model.compile({metrics})`. */
export * as metrics from './metrics.js';
export {GroupSort, groupSort} from './group_sort.js';
export type {GroupSortArgs} from './group_sort.js';
