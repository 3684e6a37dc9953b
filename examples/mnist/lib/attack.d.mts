import type * as tf from '@tensorflow/tfjs-core';

/** The default attack: 50 steps, 3 random restarts. */
export const PGD: {steps: number, restarts: number};

/** Options of {@link pgdAccuracy}. */
export interface PgdOptions {
  steps?: number;
  restarts?: number;
  seed?: number;
  batchSize?: number;
  /** `skip(eps)[i]`: image i is certified robust at eps (counted robust, not attacked). */
  skip?: (eps: number) => boolean[];
  onProgress?: (done: number, total: number) => void;
}

/** Robust accuracy against l2 PGD at each radius (ascending), per radius and per image. */
export function pgdAccuracy(logits: (x: tf.Tensor2D) => tf.Tensor2D, images: {x: tf.Tensor2D, labels: Uint8Array},
  epsilons: number[], options?: PgdOptions): {accuracy: number[], robust: boolean[][], attacked: number[]};
