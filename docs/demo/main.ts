// The live demo: trains a 2 -> 4 -> 4 -> 1 deep spline network on the paper's 2-D data in
// the browser, with a custom training loop (so that the TV(2) weight can change while it
// trains), and draws the decision region, the learned activations and the history. With
// "1-Lipschitz" on it trains examples/twod's spline_lip1 network instead (spectral dense
// layers, splines with maxSlope 1, tau cross-entropy) and shows the certified bound and the
// certified radius of the point under the mouse.
// Every tensor is read with `await data()` (never dataSync): on the webgpu backend a
// synchronous read stalls the GPU, and under headless SwiftShader it fails outright. The
// bound and the radius come from lipschitzBoundAsync and certifiedRadiusAsync; pointer
// probes are answered between training slices, so that no read races a training step.
// The docs page (docs/demo/index.md) calls startDemo when it mounts and its stop function when
// it unmounts. State for the browser tests is on `window.deepsplineDemo`.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import type {Tensor2D} from '@tensorflow/tfjs-core';
import {splineImplementation} from '@deepspline/core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {certifiedRadiusAsync, lipschitzBoundAsync, losses, prepareInference, tv2ProximalOptimizer,
  tv2Regularizer} from '@deepspline/lipschitz';
import type {TV2ProximalOptimizer} from '@deepspline/lipschitz';
import {ready as wasmKernelsReady} from '@deepspline/wasm';
import '@deepspline/webgl';
import '@deepspline/webgpu';
import {label, uniformSet} from '../../examples/twod/lib/data.mjs';
import {buildModel} from '../../examples/twod/lib/models.mjs';
import {REGION_MARGIN, drawActivations, drawHistory, drawRegion} from './plots.js';
import type {HistoryPoint, Probe} from './plots.js';

const TRAIN_POINTS = 1500;
const BATCH = 50;
const LEARNING_RATE = 0.01;
const REGION_SIDE = 60;
const FRAME_BUDGET_MS = 50;
/** |a_k| above which a knot counts as active: 0, so the count is of the exact non-zeros. */
const KNOT_THRESHOLD = 0;
const MEASURE_EVERY_MS = 400;
/** The temperature of the 1-Lipschitz net's loss: examples/twod's default. */
const TAU = 32;
/** examples/twod's spline init for spline_lip1. */
const LIPSCHITZ_SPLINE_INIT = 'abs';

/** What the browser tests read. */
interface DemoState {
  backend: string;
  implementation: string;
  lipschitz: boolean;
  /** How TV(2) is minimized: 'proximal' (exact zeros) or 'subgradient' (in the loss). */
  solver: Solver;
  /** Exact active knots (a_k != 0) of every spline at the last redraw. */
  knots: number;
  steps: number;
  losses: number[];
  bounds: number[];
  accuracy: number;
  /** The certified radius at the last probed point (the mouse), or null. */
  probe: Probe | null;
  stepsPerSecond: number;
  measureMs: number;
  /** Where the last redraw's time went (ms): waiting for the GPU, bound, curves, drawing. */
  measureParts: Record<string, number>;
  running: boolean;
  error: string | null;
  /** The seed of the current run (initial weights and training points). */
  seed: number;
}

// The wasm binaries are copied next to the bundle (docs/scripts/demo.mjs).
setWasmPaths(new URL('wasm/', import.meta.url).href);

async function useBackend(name: string): Promise<string> {
  const order = [name, ...['wasm', 'webgl', 'cpu'].filter((b) => b !== name)];
  // webgpu where the browser has it: without navigator.gpu tfjs registers no webgpu backend
  // (setBackend throws), without an adapter setBackend resolves false; both fall through.
  for (const candidate of order) {
    try {
      if (await tf.setBackend(candidate)) {
        await tf.ready();
        if (candidate === 'wasm') await wasmKernelsReady();
        return candidate;
      }
    } catch (err) {
      console.warn(`demo: backend ${candidate} unavailable (${(err as Error).message})`);
    }
  }
  throw new Error(`demo: no TensorFlow.js backend could be initialized; tried ${order.join(', ')}`);
}

/** Whether the browser exposes WebGPU (an adapter may still be missing: see useBackend). */
function hasWebGPU(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && tf.findBackendFactory('webgpu') != null;
}

/** The TV(2) penalty of a spline layer's coefficients (lambda 1; the loss scales it). */
function tv2Penalty(layer: SplineActivation): tf.Scalar {
  const regularizer = tv2Regularizer({lambda: 1});
  regularizer.setSplineGrid(layer.grid);
  return regularizer.apply(layer.trainableWeights[0].read());
}

type Solver = 'proximal' | 'subgradient';

interface Run {
  model: tfl.Sequential;
  solver: Solver;
  splines: SplineActivation[];
  lipschitz: boolean;
  optimizer: tf.Optimizer;
  xTrain: Tensor2D;
  yTrain: Tensor2D;
  points: {x: Float32Array, y: Float32Array};
  grid: Tensor2D;
  gridLabels: Float32Array;
  /** The last region drawn (redrawn with the probe as the mouse moves). */
  probabilities: Float32Array | null;
  bound: number;
}

/**
 * The unconstrained demo net (logit output), or examples/twod's spline_lip1 net: 1-Lipschitz
 * by construction, a linear logit.
 */
function createModel(lipschitz: boolean, seed: number): tfl.Sequential {
  if (lipschitz) {
    return buildModel('spline_lip1', {seed, lambda: 0, weightDecay: 0, splineInit: LIPSCHITZ_SPLINE_INIT});
  }
  const init = (i: number) => tfl.initializers.glorotUniform({seed: seed + i});
  return tfl.sequential({layers: [
    tfl.layers.dense({units: 4, inputShape: [2], useBias: false, kernelInitializer: init(0)}),
    splineActivation({size: 21, range: 1}),
    tfl.layers.dense({units: 4, kernelInitializer: init(1)}),
    splineActivation({size: 21, range: 1}),
    tfl.layers.dense({units: 1, kernelInitializer: init(2)}),
  ]});
}

/** The largest seed `?seed=` takes (and the range of the random ones). */
const MAX_SEED = 1e6;

/**
 * The `?seed=N` of the page's address (a whole number from 1 to {@link MAX_SEED}): every run
 * (and every Reset) starts from the same weights and points. Absent: a new random seed per run.
 */
function seedParam(value: string | null): number | null {
  if (value == null) return null;
  const seed = Number(value);
  if (!/^[0-9]+$/.test(value) || !(seed >= 1 && seed <= MAX_SEED)) {
    throw new Error(`?seed=${value}: expected a whole number from 1 to ${MAX_SEED}`);
  }
  return seed;
}

function createRun(dataset: string, lipschitz: boolean, solver: Solver, lambda: number, seed: number): Run {
  const model = createModel(lipschitz, seed);
  const splines = model.layers.filter((l): l is SplineActivation => l instanceof SplineActivation);
  const points = uniformSet(dataset, TRAIN_POINTS, seed);
  const cells = new Float32Array(2 * REGION_SIDE * REGION_SIDE);
  const gridLabels = new Float32Array(REGION_SIDE * REGION_SIDE);
  for (let r = 0; r < REGION_SIDE; r++) {
    for (let c = 0; c < REGION_SIDE; c++) {
      const i = r * REGION_SIDE + c;
      const x = -1 + (2 * c + 1) / REGION_SIDE;
      const y = 1 - (2 * r + 1) / REGION_SIDE;
      cells[2 * i] = x;
      cells[2 * i + 1] = y;
      gridLabels[i] = label(dataset, x, y);
    }
  }
  const adam = tf.train.adam(LEARNING_RATE);
  // proximal: Adam on the weights, proximal Adam on the splines (knots the threshold removes are 0)
  const optimizer = solver === 'proximal' ? tv2ProximalOptimizer(model, adam, {lambda}) : adam;
  return {model, solver, splines, lipschitz, optimizer, points, gridLabels,
    xTrain: tf.tensor2d(points.x, [TRAIN_POINTS, 2]), yTrain: tf.tensor2d(points.y, [TRAIN_POINTS, 1]),
    grid: tf.tensor2d(cells, [REGION_SIDE * REGION_SIDE, 2]), probabilities: null, bound: NaN};
}

function disposeRun(run: Run): void {
  run.model.dispose();
  run.optimizer.dispose();  // the proximal wrapper disposes the Adam it wraps
  tf.dispose([run.xTrain, run.yTrain, run.grid]);
}

/** The training loss of logits: tau cross-entropy for the 1-Lipschitz net, else BCE. */
function dataLoss(run: Run, labels: Tensor2D, logits: Tensor2D): tf.Scalar {
  // The tau loss is per sample, as a tfjs-layers loss function is (fit averages it).
  return (run.lipschitz ? tf.mean(losses.tauBinaryCrossentropy({tau: TAU})(labels, logits)) :
    tf.losses.sigmoidCrossEntropy(labels, logits)) as tf.Scalar;
}

/** The probability of class 1 that the loss fits: sigmoid(tau f) or sigmoid(f). */
function probability(run: Run, logits: Tensor2D): Tensor2D {
  return tf.sigmoid(run.lipschitz ? tf.mul(logits, TAU) as Tensor2D : logits);
}

/**
 * Starts the demo in the page's demo markup (the element ids of docs/demo/index.md) and
 * returns the function that stops it and frees its tensors.
 */
export function startDemo(): () => void {
  const state: DemoState = {backend: '', implementation: '', lipschitz: false, solver: 'proximal', knots: NaN, steps: 0, losses: [],
    bounds: [], accuracy: NaN, probe: null, stepsPerSecond: 0, measureMs: 0, measureParts: {}, running: false, error: null,
    seed: NaN};
  (window as unknown as {deepsplineDemo: DemoState}).deepsplineDemo = state;

  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const root = $('deepspline-demo');
  const datasetSelect = $<HTMLSelectElement>('dataset');
  const backendSelect = $<HTMLSelectElement>('backend');
  if (hasWebGPU() && !Array.from(backendSelect.options).some((o) => o.value === 'webgpu')) {
    backendSelect.add(new Option('webgpu', 'webgpu'), 2);
  }
  const lipschitzInput = $<HTMLInputElement>('lipschitz');
  const solverSelect = $<HTMLSelectElement>('solver');
  const lambdaInput = $<HTMLInputElement>('lambda');
  const lambdaOutput = $<HTMLOutputElement>('lambda-value');
  const toggleButton = $<HTMLButtonElement>('toggle');
  const regionCanvas = $<HTMLCanvasElement>('region');
  const setStat = (id: string, text: string) => { $(`stat-${id}`).textContent = text; };

  /** Slider position 0 turns the penalty off; 1..6 is lambda = 10^(position - 7). */
  function lambda(): number {
    const v = Number(lambdaInput.value);
    return v === 0 ? 0 : 10 ** (v - 7);
  }

  function trainStep(run: Run, start: number): void {
    const lam = lambda();
    const proximal = run.solver === 'proximal';
    if (proximal) (run.optimizer as TV2ProximalOptimizer).lambda = lam;
    const variables = run.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const cost = run.optimizer.minimize(() => {
      const xb = tf.slice(run.xTrain, [start, 0], [BATCH, 2]);
      const yb = tf.slice(run.yTrain, [start, 0], [BATCH, 1]);
      let loss = dataLoss(run, yb, run.model.apply(xb, {training: true}) as Tensor2D);
      if (lam > 0 && !proximal) {
        for (const layer of run.splines) loss = tf.add(loss, tf.mul(lam, tv2Penalty(layer)));
      }
      return loss;
    }, false, variables);
    cost?.dispose();
  }

  let run: Run | null = null;
  /** `?seed=` of the address, or null: a random seed per run. */
  let fixedSeed: number | null = null;
  let generation = 0;
  let history: HistoryPoint[] = [];

  /** Redraws; returns how long it waited for training steps still queued on the device. */
  async function measure(current: Run): Promise<number> {
    const started = performance.now();
    const parts: Record<string, number> = {};
    let mark = started;
    const lap = (name: string) => { const now = performance.now(); parts[name] = now - mark; mark = now; };
    // the training steps queued on the device before this redraw (webgpu runs them later)
    const drain = tf.tidy(() => tf.sum(current.model.trainableWeights[0]!.read()));
    await drain.data();
    drain.dispose();
    lap('queued training');
    const queued = parts['queued training']!;
    // the spectral layers' certified kernels, read asynchronously, before predict needs them
    await prepareInference(current.model);
    const [loss, probabilities, tv2] = tf.tidy(() => {
      // one batch each: predict's default of 32 rows per batch costs a dispatch per layer and
      // batch, which on webgpu (SwiftShader) made this 100x slower
      const logits = current.model.predict(current.xTrain, {batchSize: TRAIN_POINTS}) as Tensor2D;
      const gridProbabilities = probability(current,
        current.model.predict(current.grid, {batchSize: REGION_SIDE * REGION_SIDE}) as Tensor2D);
      const tv = current.splines.map((l) => tf.sum(l.tv2()));
      return [dataLoss(current, current.yTrain, logits), gridProbabilities, tf.addN(tv)];
    });
    const [lossValue, probs, tv2Value] = await Promise.all([loss.data(), probabilities.data(), tv2.data()]);
    tf.dispose([loss, probabilities, tv2]);
    lap('predict');
    let correct = 0;
    for (let i = 0; i < probs.length; i++) correct += Number((probs[i] > 0.5) === (current.gridLabels[i] > 0.5));
    const bound = (await lipschitzBoundAsync(current.model, {norm: 2, method: 'operator'})).bound;
    lap('bound');
    let knots = 0;
    const curves = [];
    for (const l of current.splines) {
      const active = l.activeKnots(KNOT_THRESHOLD);
      const {x, y} = l.curves(121, 5);
      const slopes = l.reluSlopes();
      const knotPositions = l.knots();
      const [counts, xs, ys, as, ts] = await Promise.all([active.data(), x.data(), y.array(), slopes.array(),
        knotPositions.data()]);
      tf.dispose([active, x, y, slopes, knotPositions]);
      knots += Array.from(counts).reduce((s, v) => s + v, 0);
      curves.push({x: xs as Float32Array, y: ys as number[][], slopes: as as number[][], knots: ts as Float32Array});
    }
    lap('curves');
    if (current !== run) return queued;  // restarted meanwhile: these numbers are the old run's

    current.probabilities = probs as Float32Array;
    current.bound = bound;
    history.push({step: state.steps, loss: lossValue[0], bound});
    state.losses.push(lossValue[0]);
    state.bounds.push(bound);
    state.accuracy = correct / probs.length;
    if (state.probe) await probe(current, state.probe.x, state.probe.y);
    setStat('steps', `${state.steps} (${(state.steps * BATCH / TRAIN_POINTS).toFixed(1)})`);
    setStat('loss', lossValue[0].toFixed(4));
    setStat('accuracy', `${(100 * state.accuracy).toFixed(1)} %`);
    setStat('tv2', tv2Value[0].toFixed(3));
    state.knots = knots;
    setStat('knots', `${knots} of ${current.splines.length * 4 * 19}`);
    setStat('lipschitz', bound.toPrecision(4));
    setStat('speed', `${state.stepsPerSecond.toFixed(0)} steps/s`);
    drawRegion(regionCanvas, current.probabilities, REGION_SIDE, current.points, state.probe);
    drawActivations($('activations'), curves, KNOT_THRESHOLD);
    drawHistory($<HTMLCanvasElement>('history'), history, current.lipschitz ? `loss (tau CE, tau ${TAU})` : 'loss (BCE)');
    lap('draw');
    state.measureParts = parts;
    state.measureMs = performance.now() - started;
    return queued;
  }

  /** The certified l2 radius of the point (x, y) under the current bound, shown and drawn. */
  async function probe(current: Run, x: number, y: number): Promise<void> {
    if (!Number.isFinite(current.bound)) return;
    const point = tf.tensor2d([[x, y]]);
    let result;
    try {
      result = await certifiedRadiusAsync(current.model, point, {norm: 2, bound: current.bound});
    } finally {
      point.dispose();
    }
    if (current !== run) return;
    const {radius, predicted} = result;
    state.probe = {x, y, radius: radius[0]};
    setStat('radius', `${radius[0].toPrecision(3)} (class ${predicted[0]}) at (${x.toFixed(2)}, ${y.toFixed(2)})`);
  }

  /** The point under the pointer, answered by the training loop between slices. */
  let pendingProbe: {x: number, y: number} | null = null;

  async function answerProbe(current: Run): Promise<void> {
    const point = pendingProbe;
    if (point == null || current.probabilities == null) return;
    pendingProbe = null;
    await probe(current, point.x, point.y);
    drawRegion(regionCanvas, current.probabilities, REGION_SIDE, current.points, state.probe);
  }

  function onPointer(event: PointerEvent): void {
    const current = run;
    if (current?.probabilities == null) return;
    const box = regionCanvas.getBoundingClientRect();
    const scale = regionCanvas.width / box.width;
    const px = (event.clientX - box.left) * scale;
    const py = (event.clientY - box.top) * scale;
    const side = regionCanvas.width - REGION_MARGIN.left - REGION_MARGIN.right;
    const x = -1 + 2 * (px - REGION_MARGIN.left) / side;
    const y = 1 - 2 * (py - REGION_MARGIN.top) / side;
    if (Math.abs(x) > 1 || Math.abs(y) > 1) return;
    pendingProbe = {x, y};
  }

  /** Trains in slices of FRAME_BUDGET_MS, redrawing every MEASURE_EVERY_MS. */
  async function loop(myGeneration: number): Promise<void> {
    let offset = 0;
    let lastMeasure = performance.now();
    let trainingMs = 0;
    let trainingSteps = 0;
    while (generation === myGeneration) {
      const current = run;
      if (current == null) return;
      if (state.running) {
        const start = performance.now();
        while (performance.now() - start < FRAME_BUDGET_MS) {
          trainStep(current, offset);
          offset = (offset + BATCH) % TRAIN_POINTS;
          trainingSteps++;
          state.steps++;
        }
        trainingMs += performance.now() - start;
        if (performance.now() - lastMeasure > MEASURE_EVERY_MS) {
          // webgpu queues the steps and runs them later: their time ends in the next read
          trainingMs += await measure(current);
          state.stepsPerSecond = trainingSteps / (trainingMs / 1000);
          lastMeasure = performance.now();
        }
      }
      if (generation === myGeneration) await answerProbe(current);
      await tf.nextFrame();
    }
  }

  /**
   * The current run's measure-and-train sequence. A restart waits for it (the loop returns at
   * its next check, after the read in flight) before it frees the run or changes the backend:
   * an asynchronous read must not find its model disposed.
   */
  let activity: Promise<void> = Promise.resolve();

  function retire(): void {
    const old = run;
    run = null;
    if (old) activity = activity.then(() => disposeRun(old));
  }

  function restart(): void {
    const myGeneration = ++generation;
    retire();
    history = [];
    state.steps = 0;
    state.losses = [];
    state.bounds = [];
    state.probe = null;
    pendingProbe = null;
    state.lipschitz = lipschitzInput.checked;
    state.solver = solverSelect.value === 'subgradient' ? 'subgradient' : 'proximal';
    root.classList.toggle('lipschitz', state.lipschitz);
    setStat('radius', 'move the mouse over the region');
    activity = activity.then(async () => {
      if (myGeneration !== generation) return;
      state.backend = await useBackend(backendSelect.value);
      backendSelect.value = state.backend;
      if (myGeneration !== generation) return;
      state.seed = fixedSeed ?? 1 + Math.floor(Math.random() * MAX_SEED);
      run = createRun(datasetSelect.value, state.lipschitz, state.solver, lambda(), state.seed);
      state.implementation = splineImplementation();
      setStat('backend', `${state.backend} (${state.implementation})`);
      setStat('seed', String(state.seed));
      await measure(run);
      state.running = true;
      toggleButton.textContent = 'Pause';
      await loop(myGeneration);
    }).catch(fail);
  }

  function fail(err: unknown): void {
    state.error = err instanceof Error ? err.message : String(err);
    state.running = false;
    const box = $('demo-error');
    box.textContent = `The demo stopped: ${state.error}`;
    box.hidden = false;
    console.error(err);
  }

  const showLambda = () => {
    const lam = lambda();
    lambdaOutput.textContent = lam === 0 ? 'off' : lam.toExponential(0);
  };
  lambdaInput.addEventListener('input', showLambda);
  toggleButton.addEventListener('click', () => {
    state.running = !state.running;
    toggleButton.textContent = state.running ? 'Pause' : 'Train';
  });
  $('reset').addEventListener('click', restart);
  datasetSelect.addEventListener('change', restart);
  backendSelect.addEventListener('change', restart);
  lipschitzInput.addEventListener('change', restart);
  solverSelect.addEventListener('change', restart);
  // Pointer events: the mouse, and a tap or drag on a touch screen.
  regionCanvas.addEventListener('pointermove', onPointer);
  regionCanvas.addEventListener('pointerdown', onPointer);

  const params = new URLSearchParams(window.location.search);
  if (params.get('backend')) backendSelect.value = params.get('backend') as string;
  if (params.get('data')) datasetSelect.value = params.get('data') as string;
  if (params.get('lipschitz') === '1') lipschitzInput.checked = true;
  if (params.get('solver')) solverSelect.value = params.get('solver') as string;
  if (params.get('lambda')) lambdaInput.value = params.get('lambda') as string;
  showLambda();
  try {
    fixedSeed = seedParam(params.get('seed'));
    restart();
  } catch (err) {
    fail(err);
  }

  return () => {
    generation++;
    retire();
  };
}
