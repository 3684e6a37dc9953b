import type * as tf from '@tensorflow/tfjs-core';

/** Default attack: 50 steps, 3 random restarts. */
export const PGD: {steps: number, restarts: number};

/**
 * Robust accuracy against l2 PGD at each radius (ascending `epsilons`): per radius the share
 * of images that are correct and unbroken, the per-image verdicts and the images attacked.
 * `skip(eps)[i]`: image i is certified robust at eps (it counts as robust, not attacked).
 */
export function pgdAccuracy(logits: (x: tf.Tensor2D) => tf.Tensor2D, images: {x: tf.Tensor2D, labels: Uint8Array},
    epsilons: number[], options?: {steps?: number, restarts?: number, seed?: number, batchSize?: number,
      skip?: (eps: number) => boolean[], onProgress?: (done: number, total: number) => void}):
    {accuracy: number[], robust: boolean[][], attacked: number[]};
