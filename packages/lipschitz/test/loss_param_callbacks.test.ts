/**
 * lossParamScheduler and lossParamLog (deel-lip's LossParamScheduler, LossParamLog): the loss
 * a model was compiled with sees the scheduled value from the next step on. Checked against
 * the batch losses computed in float64 with the scheduled parameter (a model that SGD with
 * learning rate 0 keeps fixed).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Logs} from '@tensorflow/tfjs-layers';
import {lossParamLog, lossParamScheduler, losses} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

const relu = (v: number) => Math.max(v, 0);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
/** numpy's interp, written out for the test. */
function interpJs(x: number, xp: number[], fp: number[]): number {
  if (x <= xp[0]!) return fp[0]!;
  if (x >= xp[xp.length - 1]!) return fp[fp.length - 1]!;
  const i = xp.findIndex((v, k) => v <= x && x < xp[k + 1]!);
  return fp[i]! + (fp[i + 1]! - fp[i]!) * (x - xp[i]!) / (xp[i + 1]! - xp[i]!);
}
/** deel-lip's HKR on one batch: -(E[f|+] - E[f|-]) + alpha * mean relu(m/2 - s f). */
function hkrJs(y: number[], f: number[], alpha: number, margin: number): number {
  const pos = f.filter((_, i) => y[i]! > 0);
  const neg = f.filter((_, i) => !(y[i]! > 0));
  const kr = (pos.length ? mean(pos) : 0) - (neg.length ? mean(neg) : 0);
  return -kr + alpha * mean(f.map((v, i) => relu(margin / 2 - (y[i]! > 0 ? 1 : -1) * v)));
}

function setup(n: number) {
  const r = rng(21);
  const points = Array.from({length: n}, () => [2 * r() - 1, 2 * r() - 1]);
  const labels = points.map(([a, b]) => (a! * b! > 0 ? 1 : 0));
  const model = tfl.sequential({layers: [tfl.layers.dense({inputShape: [2], units: 1,
    kernelInitializer: tfl.initializers.glorotUniform({seed: 4})})]});
  return {model, x: tf.tensor2d(points), y: tf.tensor2d(labels.map((l) => [l])), labels};
}

describe('lossParamScheduler / lossParamLog', () => {
  test('the compiled loss sees every scheduled alpha: batch losses equal the float64 HKR at interp(step, xp, fp)', async () => {
    const {model, x, y, labels} = setup(48);
    const loss = losses.hkr({alpha: 100, margin: 0.4});
    model.compile({optimizer: tf.train.sgd(0), loss});
    const f = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const batchLosses: number[] = [];
    const printed: string[] = [];
    const xp = [0, 3, 9];
    const fp = [0, 6, 3];
    const scheduler = lossParamScheduler({param: 'alpha', fp, xp});
    await model.fit(x, y, {epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [
      scheduler, lossParamLog({param: 'alpha', print: (m) => printed.push(m), rate: 2}),
      new tfl.CustomCallback({onBatchEnd: async (_batch: number, logs?: Logs) => { batchLosses.push(logs!.loss!); }})]});
    expect(batchLosses.length).toBe(12);
    batchLosses.forEach((value, step) => {
      const b = step % 6;
      const alpha = interpJs(step, xp, fp);
      const expected = hkrJs(labels.slice(8 * b, 8 * b + 8), f.slice(8 * b, 8 * b + 8), alpha, 0.4);
      expect(Math.abs(value - expected)).toBeLessThan(1e-5);
    });
    expect(scheduler.step).toBe(12);
    expect(loss.alpha).toBe(interpJs(11, xp, fp));
    // the log: one value per epoch in the history, printed at epochs 0, 2, ...
    expect(printed).toEqual([`hkr alpha ${interpJs(5, xp, fp)}`]);
    tf.dispose([x, y]);
    model.dispose();
  });

  test('history holds the logged parameter per epoch; a second fit resumes from step', async () => {
    const {model, x, y} = setup(16);
    const loss = losses.tauBinaryCrossentropy({tau: 1});
    model.compile({optimizer: tf.train.sgd(0.01), loss});
    const scheduler = lossParamScheduler({param: 'tau', fp: [1, 9], xp: [0, 8]});
    const history = await model.fit(x, y, {epochs: 3, batchSize: 8, verbose: 0,
      callbacks: [scheduler, lossParamLog({param: 'tau', print: null})]});
    expect(history.history.tau).toEqual([2, 4, 6]);
    const resumed = lossParamScheduler({param: 'tau', fp: [1, 9], xp: [0, 8], step: scheduler.step});
    await model.fit(x, y, {epochs: 1, batchSize: 8, verbose: 0, callbacks: [resumed]});
    expect(loss.tau).toBe(8);
    tf.dispose([x, y]);
    model.dispose();
  });

  test('errors: a loss without the parameter, a string loss, a value the loss refuses, bad schedules', async () => {
    const {model, x, y} = setup(8);
    model.compile({optimizer: tf.train.sgd(0), loss: losses.hkr({alpha: 1})});
    await expect(model.fit(x, y, {epochs: 1, verbose: 0, callbacks: [lossParamScheduler({param: 'tau', fp: [1], xp: [0]})]}))
      .rejects.toThrow('lossParamScheduler: the loss hkr has no settable parameter "tau"; its parameters are alpha, margin');
    await expect(model.fit(x, y, {epochs: 1, batchSize: 4, verbose: 0, callbacks: [lossParamScheduler({param: 'margin', fp: [1, -1], xp: [0, 1]})]}))
      .rejects.toThrow('hkr: expected margin >= 0, got -1');
    model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
    await expect(model.fit(x, y, {epochs: 1, verbose: 0, callbacks: [lossParamLog({param: 'tau'})]}))
      .rejects.toThrow('lossParamLog: the model\'s loss is "meanSquaredError", not one loss function; pass the loss to schedule as {loss}');
    expect(() => lossParamScheduler({param: 'tau', fp: [1, 2], xp: [0]})).toThrow(
      'lossParamScheduler: expected fp and xp of the same length, got 2 and 1');
    expect(() => lossParamScheduler({param: 'tau', fp: [1, 2], xp: [3, 0]})).toThrow(
      'lossParamScheduler: expected xp to be non-decreasing, got [3,0]');
    expect(() => lossParamScheduler({param: 'tau', fp: [NaN], xp: [0]})).toThrow(
      'lossParamScheduler: expected fp as a non-empty array of finite numbers, got [NaN]');
    expect(() => lossParamScheduler({param: '', fp: [1], xp: [0]} as never)).toThrow(
      'lossParamScheduler: expected param to be the name of a loss parameter');
    expect(() => lossParamScheduler({param: 'tau', fp: [1], xp: [0], loss: losses.kr()})).toThrow(
      'lossParamScheduler: the loss kr has no settable parameter "tau"; use a loss of @deepspline/lipschitz');
    expect(() => lossParamLog({param: 'tau', rate: 0})).toThrow('lossParamLog: expected rate to be an integer >= 1, got 0');
    tf.dispose([x, y]);
    model.dispose();
  });
});
