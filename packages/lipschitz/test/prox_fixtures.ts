/** Fixtures of the proximal TV(2) solvers' tests (prox.test.ts, prox_optimizer.test.ts). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {modelActiveKnots, splineLayers} from '@deepspline/lipschitz';
import {rng, rowsOf} from './helpers.js';

/** 200 points in [-1, 1]^2 labelled by a circle, seeded. */
export function data(seed = 3): {x: tf.Tensor2D, y: tf.Tensor2D} {
  const r = rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; ++i) {
    const a = 2 * r() - 1;
    const b = 2 * r() - 1;
    x.push(a, b);
    y.push(a * a + b * b < 0.5 ? 1 : 0);
  }
  return {x: tf.tensor2d(x, [200, 2]), y: tf.tensor2d(y, [200, 1])};
}

/** 2 -> 6 -> spline -> 1 (sigmoid), seeded; `spline` extra spline arguments. */
export function net(spline: object = {}, seed = 7): tfl.Sequential {
  return tfl.sequential({layers: [
    tfl.layers.dense({units: 6, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed})}),
    splineActivation({size: 21, range: 1, name: 'act', ...spline}),
    tfl.layers.dense({units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({seed: seed + 1})}),
  ]});
}

/** Exact knots: second differences of the float32 values, in float64, that are not 0. */
export function exactKnots(rows: number[][]): number {
  let n = 0;
  for (const c of rows) for (let k = 1; k < c.length - 1; ++k) if ((c[k - 1]! - 2 * c[k]!) + c[k + 1]! !== 0) ++n;
  return n;
}

/** The stored (unclipped) coefficients of every spline layer, as rows. */
export function stored(model: tfl.LayersModel): number[][] {
  return splineLayers(model).flatMap(({layer}) => rowsOf(layer.getWeights()[0]!));
}

/**
 * Checks that the exact knots of a fresh {@link net} trained by `train(model, lambda)` never
 * rise along `lambdas` and end below a quarter of the first count.
 */
export async function expectKnotsFall(lambdas: number[],
    train: (model: tfl.Sequential, lambda: number) => Promise<void>): Promise<void> {
  const counts: number[] = [];
  for (const lambda of lambdas) {
    const model = net();
    await train(model, lambda);
    counts.push(exactKnots(stored(model)));
    model.dispose();
  }
  for (let i = 1; i < counts.length; ++i) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]!);
  expect(counts[counts.length - 1]).toBeLessThan(counts[0]! / 4);
}

/**
 * After training a {@link net} with `learnableScale` under a TV(2) prox: the scale has moved
 * away from 1, some knots are exactly 0 (fewer than half of the 6 x 19 remain), and
 * `modelActiveKnots` counts exactly the non-zero ones.
 */
export function expectScaledAndSparse(model: tfl.LayersModel): void {
  const scale = Array.from(model.getLayer('act').getWeights()[1]!.dataSync());
  expect(scale.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
  const exact = exactKnots(stored(model));
  expect(exact).toBeGreaterThan(0);
  expect(exact).toBeLessThan(6 * 19 / 2);
  expect(modelActiveKnots(model).total).toBe(exact);
}

