/**
 * The 1-Lipschitz convolutional network of the example, in the style of deel-lip's MNIST
 * tutorial: spectral convolutions, L2-norm pooling, 1-Lipschitz activations, a spectral dense
 * head. Every initializer is seeded, so a model is a pure function of its arguments.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {groupSort, invertibleDownSampling, scaledL2NormPooling2d, spectralConv2d, spectralDense,
  tv2Regularizer} from '@deepspline/lipschitz';
import {deriveSeed} from '../../shared/prng.mjs';
import {CLASSES, PIXELS} from './data.mjs';

/** The activations the network can use. */
export const ACTIVATIONS = ['spline', 'groupsort'];
/** Filters of the two convolutions and units of the hidden dense layer. */
export const WIDTHS = {conv1: 8, conv2: 16, dense: 64};
/** The splines: 21 coefficients on [-1, 1], leaky-ReLU init, slopes clipped to [-1, 1]. */
export const SPLINE = {size: 21, range: 1, init: 'leaky_relu', maxSlope: 1};

/** The architecture in one line (for the report). */
export const ARCHITECTURE = `28x28x1 -> invertibleDownSampling 2 -> 14x14x4 -> spectralConv2d ${WIDTHS.conv1} 3x3 -> act -> ` +
  `scaledL2NormPooling2d 2 -> 7x7x${WIDTHS.conv1} -> spectralConv2d ${WIDTHS.conv2} 3x3 -> act -> scaledL2NormPooling2d 2 -> ` +
  `3x3x${WIDTHS.conv2} -> flatten -> spectralDense ${WIDTHS.dense} -> act -> spectralDense 10`;

/**
 * Builds the network (not compiled): input `[784]` (the pixels, as the MLP example's data),
 * reshaped to `[28, 28, 1]`; linear logits.
 * @param {{activation: 'spline' | 'groupsort', seed: number, lambda: number, bjorck?: boolean}} options
 *   `bjorck`: Björck-orthonormalized spectral layers (else spectral normalisation only)
 */
export function buildConvModel({activation, seed, lambda, bjorck = false}) {
  const ortho = bjorck ? {orthonormalize: 'bjorck'} : {};
  const init = (name) => tfl.initializers.glorotUniform({seed: deriveSeed(seed, name) % 1e9});
  const act = (name) => (activation === 'groupsort' ? groupSort({groupSize: 2, name}) :
    splineActivation({...SPLINE, name, coefficientsRegularizer: lambda > 0 ? tv2Regularizer({lambda}) : undefined}));
  return tfl.sequential({name: `conv_${activation}_lip1`, layers: [
    tfl.layers.reshape({targetShape: [28, 28, 1], inputShape: [PIXELS], name: 'image'}),
    invertibleDownSampling({poolSize: 2, name: 'down'}),
    spectralConv2d({filters: WIDTHS.conv1, kernelSize: 3, padding: 'same', ...ortho, name: 'conv_1', kernelInitializer: init('conv_1')}),
    act('act_1'),
    scaledL2NormPooling2d({poolSize: 2, name: 'pool_1'}),
    spectralConv2d({filters: WIDTHS.conv2, kernelSize: 3, padding: 'same', ...ortho, name: 'conv_2', kernelInitializer: init('conv_2')}),
    act('act_2'),
    scaledL2NormPooling2d({poolSize: 2, name: 'pool_2'}),
    tfl.layers.flatten({name: 'flatten'}),
    spectralDense({units: WIDTHS.dense, ...ortho, name: 'dense_1', kernelInitializer: init('dense_1')}),
    act('act_3'),
    spectralDense({units: CLASSES, ...ortho, name: 'logits', kernelInitializer: init('logits')}),
  ]});
}
