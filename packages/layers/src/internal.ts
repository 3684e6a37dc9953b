/**
 * `@deepspline/layers/internal`: what `@deepspline/lipschitz` (and a package of your own that
 * rebuilds, bounds or exports models) builds on, kept off the main entry point:
 * - the one walk over a model's graph ({@link modelGraph}: every call of every layer with its
 *   real input shapes, through nested models) and what is computed over it ({@link mapGraph},
 *   {@link runGraph}, {@link sourceCall}), with the model checks, layer clones, fresh names
 *   and the layer lookup through nested models that go with it;
 * - the uses of tfjs-layers' private API (`tfjs_internals.ts`).
 *
 * Not covered by semantic versioning beyond what the packages of the same release need.
 *
 * @packageDocumentation
 */
export {activationOf, allLayers, checkBuiltModel, cloneLayer, downstreamLayers, findLayers, freeName, mapGraph,
  modelGraph, runGraph, sourceCall} from './graph.js';
export type {FoundLayer, GraphNode, ModelGraph, ModelGraphOptions, Shape} from './graph.js';
export {CONSTRAINT_BASE, INITIALIZER_BASE, REGULARIZER_BASE, layerFields, registeredClasses} from './tfjs_internals.js';
export type {Constraint, Conv2D, ConvLayerArgs, Dense, DenseLayerArgs, Kwargs, LayerArgs, LayerCall, Regularizer,
  Symbolic} from './tfjs_internals.js';
