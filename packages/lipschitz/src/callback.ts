/**
 * A `fit`/`fitDataset` callback that monitors the Lipschitz bound of the model, or holds it
 * under a target by projecting the weights after every batch.
 */
import {ArgumentError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Logs} from '@tensorflow/tfjs-layers';
import {checkArgsObject, checkFinite, checkInteger, describe} from '@deepspline/core/internal';
import {attachedModel} from './attached_model.js';
import {boundWithEntriesReads, checkMethod} from './bound.js';
import type {FactorCache} from './bound.js';
import type {BoundMethod} from './rule_registry.js';
import {checkNorm} from './matrix_norm.js';
import {PowerIterationState} from './power_iteration.js';
import type {Norm} from './matrix_norm.js';
import {runAsync, runSync} from './reads.js';
import type {TensorReads} from './reads.js';

/** Arguments of {@link lipschitzCallback}. */
export interface LipschitzCallbackArgs {
  /**
   * `'monitor'`: compute the bound and write it to the logs. `'constrain'`: after
   * every batch, project the weights so that the operator bound is <= `target`.
   * @defaultValue `'monitor'`
   */
  mode?: 'monitor' | 'constrain';
  /** The target bound for `'constrain'` (a finite number > 0). */
  target?: number;
  /**
   * The vector norm: 1, 2 or Infinity.
   * @defaultValue `2`
   */
  norm?: number;
  /**
   * Bound method for `'monitor'`; `'constrain'` always uses `'operator'`.
   * @defaultValue `'operator'`
   */
  method?: BoundMethod;
  /**
   * Monitor mode: also compute the bound every `everyBatches` batches (written to the batch
   * logs and to {@link LipschitzCallback.records}).
   * @defaultValue only at the end of each epoch
   */
  everyBatches?: number;
  /**
   * Print the bound at the end of every epoch.
   * @defaultValue `false`
   */
  verbose?: boolean;
  /**
   * Key written to the logs (and so to `history.history`).
   * @defaultValue `'lipschitz'`
   */
  logKey?: string;
  /**
   * Constrain mode: maximum warm-started power iterations per operator and batch (the
   * vectors are kept between batches, so a few iterations usually suffice).
   * @defaultValue `50`
   */
  powerIterations?: number;
  /**
   * Constrain mode: also rescale frozen layers (those without trainable weights, e.g.
   * `trainable: false` on a pretrained layer). By default they keep their weights and count
   * as fixed factors; the trainable layers take the whole rescaling.
   * @defaultValue `false`
   */
  rescaleFrozen?: boolean;
  /**
   * Where `verbose` and warnings print.
   * @defaultValue `console.log`
   */
  print?: (message: string) => void;
}

/** One measurement of the bound during training. */
export interface LipschitzRecord {
  /** Epoch (0-based). */
  epoch: number;
  /** Batch within the epoch (0-based), or -1 for an end-of-epoch measurement. */
  batch: number;
  /** The bound (after projection in constrain mode). */
  bound: number;
}

const CONTEXT = 'lipschitzCallback';

/**
 * Watches, or limits, the Lipschitz bound of the model during `fit` / `fitDataset`.
 *
 * **Monitor** (`mode: 'monitor'`): at the end of every epoch computes
 * `lipschitzBound(model, {norm, method})` and writes it to `logs[logKey]` (default
 * `'lipschitz'`), so it appears in `history.history.lipschitz`; optionally also every
 * `everyBatches` batches.
 *
 * **Constrain** (`mode: 'constrain'`, `target`): after every batch, if the operator bound
 * `B` exceeds `target`, the excess is split evenly (geometrically) across the `n` adjustable
 * layers: every dense/convolution kernel is multiplied by `r = (target / B)^(1/n)` (its
 * operator norm, from power iterations warm-started with the vectors of the previous batch,
 * scales by `r`), and every spline layer's slopes are clipped to `r` times its current
 * Lipschitz constant (`SplineActivation.clipSlopes`). Fixed factors (activations, pooling, batch norm with
 * its current statistics) keep their values and are part of `B`. For a chain of layers
 * `r = (target / B)^(1/n)` gives exactly `B = target`; with `Add` merges the bound is not
 * homogeneous in the factors and `r` is found by bisection on the bound re-evaluated from the
 * cached factors (no norm is recomputed), still one rescaling per batch. Layers that are
 * already small keep their relative share: the allocation follows the current factors, it
 * does not reset them. Frozen layers (no trainable weights: `trainable: false`) are fixed
 * factors and keep their weights, unless `rescaleFrozen` is true. When the fixed factors
 * alone exceed the target, nothing is changed and a warning naming the frozen layers is
 * printed once; the logs report the true bound.
 *
 * Inside `fit` the callback reads the weights asynchronously (as {@link lipschitzBoundAsync}),
 * so it works on the webgpu backend; {@link LipschitzCallback.measure} and
 * {@link LipschitzCallback.project}, called directly, read synchronously.
 *
 * @example
 * ```ts
 * const history = await model.fit(xs, ys, {epochs: 10, callbacks: [
 *   lipschitzCallback({mode: 'constrain', target: 1}),
 * ]});
 * console.log(history.history.lipschitz);
 * ```
 */
export class LipschitzCallback extends tfl.Callback {
  /** The mode. */
  readonly mode: 'monitor' | 'constrain';
  /** The target bound (constrain mode). */
  readonly target: number | undefined;
  /** The vector norm. */
  readonly norm: Norm;
  /** The bound method used for monitoring. */
  readonly method: BoundMethod;
  /** Every measurement made during training. */
  readonly records: LipschitzRecord[] = [];
  private readonly everyBatches: number | undefined;
  private readonly verbose: boolean;
  private readonly logKey: string;
  private readonly powerIterations: number;
  private readonly rescaleFrozen: boolean;
  private readonly print: (message: string) => void;
  private readonly state = new PowerIterationState();
  private epochIndex = 0;
  private batchCount = 0;
  private warned = false;

  constructor(args: LipschitzCallbackArgs = {}) {
    super();
    checkArgsObject(args, CONTEXT);
    this.mode = args.mode ?? 'monitor';
    if (this.mode !== 'monitor' && this.mode !== 'constrain') {
      throw new ArgumentError(`${CONTEXT}: expected mode 'monitor' or 'constrain', got ${describe(args.mode)}`);
    }
    this.norm = checkNorm(args.norm ?? 2, CONTEXT);
    this.method = checkMethod(args.method ?? 'operator', CONTEXT);
    if (this.mode === 'constrain') {
      if (args.target === undefined) {
        throw new ArgumentError(`${CONTEXT}: mode 'constrain' needs a target (a finite number > 0), got undefined`);
      }
      checkFinite('target', args.target, CONTEXT);
      if (args.target <= 0) throw new ArgumentError(`${CONTEXT}: expected target > 0, got ${describe(args.target)}`);
      if (this.method !== 'operator') {
        throw new ArgumentError(`${CONTEXT}: mode 'constrain' uses the 'operator' bound, got method ${describe(args.method)}`);
      }
      this.target = args.target;
    } else if (args.target !== undefined) {
      throw new ArgumentError(`${CONTEXT}: target is only used with mode 'constrain', got target ` +
        `${describe(args.target)} with mode 'monitor'`);
    }
    if (args.everyBatches !== undefined) this.everyBatches = checkInteger('everyBatches', args.everyBatches, 1, CONTEXT);
    this.verbose = args.verbose ?? false;
    this.logKey = args.logKey ?? 'lipschitz';
    if (typeof this.logKey !== 'string' || this.logKey === '') {
      throw new ArgumentError(`${CONTEXT}: expected logKey to be a non-empty string, got ${describe(args.logKey)}`);
    }
    this.powerIterations = checkInteger('powerIterations', args.powerIterations ?? 50, 1, CONTEXT);
    if (args.print !== undefined && typeof args.print !== 'function') {
      throw new ArgumentError(`${CONTEXT}: expected print to be a function (message: string) => void, got ` +
        `${describe(args.print)}`);
    }
    if (typeof this.verbose !== 'boolean') {
      throw new ArgumentError(`${CONTEXT}: expected verbose to be a boolean, got ${describe(args.verbose)}`);
    }
    this.print = args.print ?? ((m: string) => console.log(m));
    this.rescaleFrozen = args.rescaleFrozen ?? false;
    if (typeof this.rescaleFrozen !== 'boolean') {
      throw new ArgumentError(`${CONTEXT}: expected rescaleFrozen to be a boolean, got ${describe(args.rescaleFrozen)}`);
    }
  }

  private layersModel(): tfl.LayersModel {
    return attachedModel(this.model, CONTEXT);
  }

  /** The current bound (warm-started power iterations). */
  measure(): number {
    return runSync(this.measureReads());
  }

  private *measureReads(): TensorReads<number> {
    return (yield* boundWithEntriesReads(this.layersModel(), this.norm, this.method,
      {state: this.state, maxIterations: this.mode === 'constrain' ? this.powerIterations : undefined})).bound;
  }

  /**
   * Projects the weights so that the operator bound is <= target (see the class comment).
   * Returns the bound after projection, as computed by the final cold check.
   */
  project(): number {
    return runSync(this.projectReads());
  }

  private *projectReads(): TensorReads<number> {
    const target = this.target!;
    const model = this.layersModel();
    const warm = {state: this.state, maxIterations: this.powerIterations};
    // The final check starts every power iteration from a fresh random vector and no stored
    // state, so it cannot inherit a stale vector; its vectors then seed the next batch.
    const cold = () => {
      this.state.clear();
      return boundWithEntriesReads(model, this.norm, 'operator', {state: this.state});
    };
    let checked = 0;
    let frozen: string[] = [];
    for (let attempt = 0; attempt < 4; ++attempt) {
      const cache: FactorCache['cache'] = new Map();
      const result = yield* boundWithEntriesReads(model, this.norm, 'operator', warm, {cache, scale: 1});
      const bound = result.bound;
      if (bound > target) {
        const rescalable = result.entries.filter((e) => e.rescale != null && e.factor > 0);
        const kept = this.rescaleFrozen ? [] : rescalable.filter((e) => e.layer.trainableWeights.length === 0);
        frozen = kept.map((e) => e.name);
        const adjustable = rescalable.filter((e) => !kept.includes(e));
        // Only the adjustable factors scale with r: a cached factor keeps its rescale only if
        // it is an adjustable entry's (a shared layer's further calls count as fixed, which
        // overestimates B(r): safe).
        const scaled = new Set(adjustable.map((e) => e.rescale));
        const fixedCache: FactorCache['cache'] = new Map([...cache].map(([key, c]) =>
          [key, scaled.has(c.rescale) ? c : {factor: c.factor}]));
        // B(r): the bound with every adjustable factor times r, from the cached factors. It
        // is increasing in r (sums and products of non-negative factors), so bisection finds
        // the largest r with B(r) <= target; for a chain B(r) = B r^n, r = (target / B)^(1/n).
        // (every factor is cached: these walks read nothing)
        const at = (r: number) => runSync(boundWithEntriesReads(model, this.norm, 'operator', warm,
          {cache: fixedCache, scale: r})).bound;
        const goal = target * (1 - 1e-6);
        if (adjustable.length === 0 || at(0) > goal) { checked = bound; break; }
        let lo = 0;
        let hi = 1;
        const chain = Math.pow(goal / bound, 1 / adjustable.length);
        if (at(chain) <= goal) lo = chain; else hi = chain;
        for (let it = 0; it < 60 && hi - lo > 1e-12 * hi; ++it) {
          const mid = (lo + hi) / 2;
          if (at(mid) <= goal) lo = mid; else hi = mid;
        }
        for (const e of adjustable) e.rescale!(lo);
      }
      checked = (yield* cold()).bound;
      if (checked <= target) return checked;
    }
    const bound = checked;
    if (bound > target && !this.warned) {
      this.warned = true;
      const kept = frozen.length === 0 ? '' : `, the frozen layers ${frozen.map((n) => `'${n}'`).join(', ')}`;
      const hint = frozen.length === 0 ? '' : '; frozen layers keep their weights unless rescaleFrozen is true';
      this.print(`${CONTEXT}: could not bring the bound ${bound} under the target ${target}: the ` +
        `fixed factors (skip connections, activations, pooling${kept}) exceed it${hint}`);
    }
    return bound;
  }

  /** Resets the counters; in constrain mode, projects the initial weights. */
  override async onTrainBegin(_logs?: Logs): Promise<void> {
    this.epochIndex = 0;
    this.batchCount = 0;
    if (this.mode === 'constrain') await runAsync(this.projectReads());  // start inside the constraint set
  }

  /** Remembers the epoch index for the records. */
  override async onEpochBegin(epoch: number, _logs?: Logs): Promise<void> {
    this.epochIndex = epoch;
  }

  /** Constrain mode: projects the weights; monitor mode: measures every `everyBatches` batches. */
  override async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    ++this.batchCount;
    let bound: number | undefined;
    if (this.mode === 'constrain') {
      bound = await runAsync(this.projectReads());
    } else if (this.everyBatches !== undefined && this.batchCount % this.everyBatches === 0) {
      bound = await runAsync(this.measureReads());
    }
    if (bound !== undefined) {
      this.records.push({epoch: this.epochIndex, batch, bound});
      if (logs != null) logs[this.logKey] = bound;
    }
  }

  /** Writes the bound to `logs[logKey]` (hence `history.history`), records and prints it. */
  override async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    // constrain: a cold bound (fresh start vectors), the number the history certifies
    let bound: number;
    if (this.mode === 'constrain') {
      this.state.clear();
      bound = (await runAsync(boundWithEntriesReads(this.layersModel(), this.norm, 'operator', {state: this.state}))).bound;
    } else {
      bound = await runAsync(this.measureReads());
    }
    this.records.push({epoch, batch: -1, bound});
    if (logs != null) logs[this.logKey] = bound;
    if (this.verbose) {
      this.print(`Epoch ${epoch + 1}: Lipschitz bound (${this.method}, norm ${this.norm}) = ${bound.toPrecision(6)}`);
    }
  }
}

/** Creates a {@link LipschitzCallback}. */
export function lipschitzCallback(args: LipschitzCallbackArgs = {}): LipschitzCallback {
  return new LipschitzCallback(args);
}
