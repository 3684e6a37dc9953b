/**
 * `@deepspline/layers`: the `SplineActivation` layer of deep spline networks for
 * TensorFlow.js, registered for serialization, and the constraint callback that `fit` needs.
 *
 * @packageDocumentation
 */
export {SplineActivation, splineActivation} from './spline_activation.js';
export type {SplineActivationArgs, SplineGridConsumer} from './spline_activation.js';
export {SPLINE_INIT_NAMES, namedInit} from './inits.js';
export type {SplineInit, SplineInitName} from './inits.js';
export {applyConstraints, ConstraintCallback, constraintCallback} from './constraints.js';
export type {ConstrainedVariable, HasWeights} from './constraints.js';
export {isLayersModel, isSplineLayer} from './guards.js';
export {withSplineActivations, type WithSplineActivationsArgs} from './convert.js';
export {exportToStandardLayers} from './standard_export.js';
export {STANDARD_LAYER_CLASSES, registerStandardExport, standardExportNames} from './export_registry.js';
export type {ExportToStandardLayersOptions, StandardExportContext, StandardExporter} from './export_registry.js';
