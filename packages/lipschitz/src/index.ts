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
export {ACTIVATION_LIPSCHITZ, activationConstant} from './activation_constants.js';
export {BOUND_METHODS, lipschitzRule, lipschitzRuleNames, registerLipschitzRule} from './rule_registry.js';
export {convolutionNorm} from './conv_operator.js';
export type {ActivationLike} from './activation_constants.js';
export type {BoundMethod, LipschitzFactor, LipschitzRule, LipschitzRuleContext} from './rule_registry.js';
export type {ConvKernels} from './conv_operator.js';
export {PowerIterationState} from './power_iteration.js';
export {matrixNorm} from './matrix_norm.js';
export {tensorOpNorm} from './operator_norm.js';
export type {LinearTensorOp} from './operator_norm.js';
export type {Norm} from './matrix_norm.js';
export type {PowerIterationOptions} from './power_iteration.js';
export type {TensorReads} from './reads.js';
export {empiricalLipschitz} from './empirical.js';
export type {EmpiricalLipschitz, EmpiricalLipschitzOptions} from './empirical.js';
export {LipschitzCallback, lipschitzCallback} from './callback.js';
export type {LipschitzCallbackArgs, LipschitzRecord} from './callback.js';
export {modelActiveKnots, sparsify, splineLayers} from './sparsity.js';
export {TV2Prox, tv2Prox} from './prox.js';
export type {TV2ProxArgs} from './prox.js';
export {TV2ProximalOptimizer, tv2ProximalOptimizer} from './prox_optimizer.js';
export type {TV2ProximalOptimizerArgs} from './prox_optimizer_args.js';
export type {FoundSplineLayer, LayerKnots, ModelKnots} from './sparsity.js';
export {certifiedRadius, certifiedRadiusAsync} from './certify.js';
export {certifiedAccuracy, certifiedAccuracyAsync} from './certified_accuracy.js';
export type {CertifiedRadius, CertifiedRadiusOptions} from './certify.js';
export type {CertifiedAccuracy, CertifiedAccuracyOptions} from './certified_accuracy.js';
export {DEFAULT_BJORCK_STEPS, DEFAULT_POWER_ITERATIONS, DEFAULT_TRAINING_BJORCK_STEPS} from './spectral_args.js';
export {SpectralConv2D, SpectralDense, spectralConv2d, spectralDense} from './spectral_layers.js';
export {prepareInference} from './inference.js';
export type {Orthonormalization, SpectralArgs, SpectralConv2DArgs, SpectralDenseArgs} from './spectral_args.js';
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
export {ScaledAveragePooling2D, scaledAveragePooling2d} from './scaled_average_pooling.js';
export type {ScaledPooling2DArgs} from './scaled_average_pooling.js';
export {ScaledL2NormPooling2D, scaledL2NormPooling2d} from './scaled_l2_norm_pooling.js';
export type {ScaledL2NormPooling2DArgs} from './scaled_l2_norm_pooling.js';
export {ScaledGlobalAveragePooling2D, scaledGlobalAveragePooling2d} from './scaled_global_average_pooling.js';
export type {ScaledGlobalPooling2DArgs} from './scaled_global_average_pooling.js';
export {ScaledGlobalL2NormPooling2D, scaledGlobalL2NormPooling2d} from './scaled_global_l2_norm_pooling.js';
export type {ScaledGlobalL2NormPooling2DArgs} from './scaled_global_l2_norm_pooling.js';
export {InvertibleDownSampling, invertibleDownSampling} from './invertible_down_sampling.js';
export type {InvertibleSamplingArgs} from './invertible_down_sampling.js';
export {InvertibleUpSampling, invertibleUpSampling} from './invertible_up_sampling.js';
export {FullSort, fullSort} from './full_sort.js';
export {Householder, householder} from './householder.js';
export type {HouseholderArgs} from './householder.js';
export {FrobeniusDense, frobeniusDense} from './frobenius_dense.js';
export type {FrobeniusDenseArgs} from './frobenius_dense.js';
export {FrobeniusConv2D, frobeniusConv2d} from './frobenius_conv2d.js';
export type {FrobeniusConv2DArgs} from './frobenius_conv2d.js';
export {SpectralConv2DTranspose, spectralConv2dTranspose} from './spectral_conv2d_transpose.js';
export type {SpectralConv2DTransposeArgs} from './spectral_conv2d_transpose.js';
export {PadConv2D, padConv2d} from './pad_conv2d.js';
export type {PadConv2DArgs, PadConv2DPadding} from './pad_conv2d.js';
export {LossParamLog, LossParamScheduler, lossParamLog, lossParamScheduler} from './loss_param_callbacks.js';
export type {LossParamArgs, LossParamLogArgs, LossParamSchedulerArgs} from './loss_param_callbacks.js';
export {SpectralConstraint, spectralConstraint} from './spectral_constraint.js';
export type {SpectralConstraintArgs} from './spectral_constraint.js';
export {FrobeniusConstraint, frobeniusConstraint} from './frobenius_constraint.js';
export type {FrobeniusConstraintArgs} from './frobenius_constraint.js';
export {AutoWeightClipConstraint, WeightClipConstraint, autoWeightClipConstraint,
  weightClipConstraint} from './weight_clip_constraint.js';
export type {AutoWeightClipConstraintArgs, WeightClipConstraintArgs} from './weight_clip_constraint.js';
export {SpectralInitializer, spectralInitializer} from './spectral_initializer.js';
export type {SpectralInitializerArgs} from './spectral_initializer.js';
export {LorthRegularizer, lorthRegularizer} from './lorth_regularizer.js';
export type {LorthRegularizerArgs} from './lorth_regularizer.js';
export {OrthDenseRegularizer, orthDenseRegularizer} from './orth_dense_regularizer.js';
export type {OrthDenseRegularizerArgs} from './orth_dense_regularizer.js';
