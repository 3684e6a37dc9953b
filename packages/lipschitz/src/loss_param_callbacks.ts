/**
 * `fit` callbacks that schedule and log a loss parameter (`tau`, `margin`, `alpha`), deel-lip's
 * `LossParamScheduler` and `LossParamLog` (`deel/lip/callbacks.py`). They set and read the
 * settable parameters of this package's losses (see {@link ParametrizedLoss}); the model's
 * compiled loss sees a new value from the next step on.
 */
import {ArgumentError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Logs} from '@tensorflow/tfjs-layers';
import {checkArgsObject, checkInteger, describe} from '@deepspline/core/internal';
import {attachedModel} from './attached_model.js';
import {checkLossParam} from './loss_params.js';

/** Which loss a {@link LossParamScheduler} or {@link LossParamLog} acts on, and its parameter. */
export interface LossParamArgs {
  /** The parameter's name: `'tau'`, `'margin'` or `'alpha'`, as the loss has it. */
  param: string;
  /**
   * The loss (one of `losses.*`, the function given to `compile`); needed when the model was
   * compiled with several losses (one per output).
   * @defaultValue the model's compiled loss
   */
  loss?: unknown;
}

/** Arguments of {@link lossParamScheduler}. */
export interface LossParamSchedulerArgs extends LossParamArgs {
  /** The parameter's values at the steps `xp` (finite numbers, as many as `xp`). */
  fp: number[];
  /**
   * The training steps (batches, counted over all epochs from `step`) where the parameter
   * equals `fp`: non-decreasing finite numbers. Between two the value is interpolated
   * linearly; before the first it is `fp[0]`, after the last the last `fp` (numpy's `interp`).
   */
  xp: number[];
  /**
   * The step count to start from (to resume a schedule in a second `fit`).
   * @defaultValue 0
   */
  step?: number;
}

/** Arguments of {@link lossParamLog}. */
export interface LossParamLogArgs extends LossParamArgs {
  /**
   * Print every `rate` epochs (epochs 0, rate, 2 rate, ...); an integer >= 1.
   * @defaultValue 1
   */
  rate?: number;
  /**
   * Where to print `"<loss name> <param> <value>"`; `null` prints nothing (the value still
   * goes to the logs).
   * @defaultValue `console.log`
   */
  print?: ((message: string) => void) | null;
}

function checkArgs(args: unknown, fields: string, context: string): Record<string, unknown> {
  const a = checkArgsObject(args, context, fields);
  if (typeof a.param !== 'string' || a.param === '') {
    throw new ArgumentError(`${context}: expected param to be the name of a loss parameter ('tau', 'margin' or ` +
      `'alpha'), got ${describe(a.param)}`);
  }
  return a;
}

function finiteArray(name: string, value: unknown, context: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ArgumentError(`${context}: expected ${name} as a non-empty array of finite numbers, got ${describe(value)}`);
  }
  return value.slice() as number[];
}

/** The loss the callback acts on, checked to have the parameter. */
function targetLoss(model: unknown, given: unknown, param: string, context: string): Record<string, number> {
  const loss = given ?? attachedModel(model, context).loss;
  if (typeof loss !== 'function') {
    throw new ArgumentError(`${context}: the model's loss is ${describe(loss)}, not one loss function; pass the loss ` +
      `to schedule as {loss}`);
  }
  checkLossParam(loss, param, context);
  return loss as unknown as Record<string, number>;
}

/** numpy's `interp(x, xp, fp)` for non-decreasing `xp`. */
function interp(x: number, xp: number[], fp: number[]): number {
  if (x <= xp[0]!) return fp[0]!;
  const last = xp.length - 1;
  if (x >= xp[last]!) return fp[last]!;
  let i = 0;
  while (xp[i + 1]! <= x) ++i;
  return fp[i]! + (fp[i + 1]! - fp[i]!) * (x - xp[i]!) / (xp[i + 1]! - xp[i]!);
}

/**
 * Sets a loss parameter before every training batch to a piecewise-linear function of the
 * step count (see {@link lossParamScheduler}).
 */
export class LossParamScheduler extends tfl.Callback {
  /** The parameter's name. */
  readonly param: string;
  /** The values at the steps {@link LossParamScheduler.xp}. */
  readonly fp: number[];
  /** The steps where the parameter equals {@link LossParamScheduler.fp}. */
  readonly xp: number[];
  /** The steps taken so far (from the `step` given): the next batch uses `interp(step, xp, fp)`. */
  step: number;
  private readonly loss: unknown;

  /** See {@link lossParamScheduler}. */
  constructor(args: LossParamSchedulerArgs) {
    super();
    const context = 'lossParamScheduler';
    const a = checkArgs(args, 'param, fp, xp, step, loss', context);
    this.param = a.param as string;
    this.fp = finiteArray('fp', a.fp, context);
    this.xp = finiteArray('xp', a.xp, context);
    if (this.fp.length !== this.xp.length) {
      throw new ArgumentError(`${context}: expected fp and xp of the same length, got ${this.fp.length} and ${this.xp.length}`);
    }
    if (this.xp.some((v, i) => i > 0 && v < this.xp[i - 1]!)) {
      throw new ArgumentError(`${context}: expected xp to be non-decreasing, got ${describe(this.xp)}`);
    }
    this.step = checkInteger('step', a.step ?? 0, 0, context);
    this.loss = a.loss;
    if (this.loss !== undefined) checkLossParam(this.loss, this.param, context);
  }

  /** The parameter's value at step `step` (numpy's `interp(step, xp, fp)`). */
  valueAt(step: number): number {
    return interp(step, this.xp, this.fp);
  }

  /** Checks, before the first batch, that the loss has the parameter. */
  override async onTrainBegin(): Promise<void> {
    targetLoss(this.model, this.loss, this.param, 'lossParamScheduler');
  }

  /** Sets the parameter for this batch and counts the step. */
  override async onBatchBegin(): Promise<void> {
    targetLoss(this.model, this.loss, this.param, 'lossParamScheduler')[this.param] = this.valueAt(this.step);
    this.step += 1;
  }
}

/**
 * Writes a loss parameter's value to the epoch logs (so `history.history[param]` holds it per
 * epoch) and prints it every `rate` epochs (see {@link lossParamLog}).
 */
export class LossParamLog extends tfl.Callback {
  /** The parameter's name (and the logs' key). */
  readonly param: string;
  /** Print every `rate` epochs. */
  readonly rate: number;
  private readonly print: ((message: string) => void) | null;
  private readonly loss: unknown;

  /** See {@link lossParamLog}. */
  constructor(args: LossParamLogArgs) {
    super();
    const context = 'lossParamLog';
    const a = checkArgs(args, 'param, rate, print, loss', context);
    this.param = a.param as string;
    this.rate = checkInteger('rate', a.rate ?? 1, 1, context);
    if (a.print !== undefined && a.print !== null && typeof a.print !== 'function') {
      throw new ArgumentError(`${context}: expected print to be a function or null, got ${describe(a.print)}`);
    }
    this.print = a.print === undefined ? (message: string) => console.log(message) :
      a.print as ((message: string) => void) | null;
    this.loss = a.loss;
    if (this.loss !== undefined) checkLossParam(this.loss, this.param, context);
  }

  /** Checks, before the first batch, that the loss has the parameter. */
  override async onTrainBegin(): Promise<void> {
    targetLoss(this.model, this.loss, this.param, 'lossParamLog');
  }

  /** Logs the value at the end of the epoch. */
  override async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    const loss = targetLoss(this.model, this.loss, this.param, 'lossParamLog');
    const value = loss[this.param]!;
    if (logs != null) logs[this.param] = value;
    if (this.print != null && epoch % this.rate === 0) {
      this.print(`${(loss as unknown as {name: string}).name} ${this.param} ${value}`);
    }
  }
}

/**
 * A `fit` callback that schedules a loss parameter, deel-lip's `LossParamScheduler`: before
 * every training batch it sets the loss's `param` to `interp(step, xp, fp)` (linear between
 * the points, constant outside) and counts the step. The loss must be one of this package's
 * losses (their `tau`, `margin` and `alpha` are settable); a value the loss refuses (e.g. a
 * negative margin) stops `fit` with the loss's error.
 *
 * @example
 * ```ts
 * const loss = losses.multiclassHkr({alpha: 10, margin: 1});
 * model.compile({optimizer: 'adam', loss});
 * // alpha from 10 to 50 over the first 1000 batches, then 50
 * await model.fit(x, y, {epochs: 10, callbacks: [lossParamScheduler({param: 'alpha', fp: [10, 50], xp: [0, 1000]})]});
 * ```
 */
export function lossParamScheduler(args: LossParamSchedulerArgs): LossParamScheduler {
  return new LossParamScheduler(args);
}

/**
 * A `fit` callback that logs a loss parameter, deel-lip's `LossParamLog`: its value at the end
 * of every epoch goes to the logs (`history.history[param]`) and, every `rate` epochs, is
 * printed.
 *
 * @example
 * ```ts
 * const history = await model.fit(x, y, {epochs: 10, callbacks: [
 *   lossParamScheduler({param: 'tau', fp: [1, 16], xp: [0, 500]}), lossParamLog({param: 'tau', print: null})]});
 * console.log(history.history.tau);
 * ```
 */
export function lossParamLog(args: LossParamLogArgs): LossParamLog {
  return new LossParamLog(args);
}
