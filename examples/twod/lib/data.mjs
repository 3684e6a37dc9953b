/**
 * The 2-D benchmark datasets of the paper, and `annulus`, a task of ours held out for the
 * transfer check of the 1-Lipschitz recipe, exactly as this example's README ("What it does")
 * defines them.
 */
import {deriveSeed, mulberry32} from '../../shared/prng.mjs';

/** The paper's datasets: what `--dataset all` (the default run) trains on. */
export const PAPER_DATASETS = ['circle', 's_shape'];

/**
 * Every dataset name: the paper's and `annulus`, which no setting of the example was tuned on
 * (the recipe's transfer task; trained only when named, `--dataset annulus`).
 */
export const DATASETS = [...PAPER_DATASETS, 'annulus'];

/** Radius of the circle holding half of the square [-1, 1]^2: x^2 + y^2 < 2 / pi. */
export const CIRCLE_RADIUS_SQ = 2 / Math.PI;

/**
 * The annulus's squared radii: label 1 where `inner < x^2 + y^2 < outer`, outer radius 0.95
 * (inside the square) and the ring's area 2, half of the square's (outer - inner = 2 / pi).
 */
export const ANNULUS_RADII_SQ = {inner: 0.95 * 0.95 - 2 / Math.PI, outer: 0.95 * 0.95};

/**
 * The label (0 or 1) of a point.
 * @param {string} dataset 'circle', 's_shape' or 'annulus'
 * @param {number} x
 * @param {number} y
 * @returns {number}
 */
export function label(dataset, x, y) {
  if (dataset === 'circle') return x * x + y * y < CIRCLE_RADIUS_SQ ? 1 : 0;
  if (dataset === 's_shape') {
    const c = 0.4 * Math.sin(-5 * y);
    return c - 0.3 < x && x < c + 0.3 && Math.abs(y) < 0.8 ? 1 : 0;
  }
  if (dataset === 'annulus') {
    const r2 = x * x + y * y;
    return ANNULUS_RADII_SQ.inner < r2 && r2 < ANNULUS_RADII_SQ.outer ? 1 : 0;
  }
  throw new Error(`unknown dataset ${JSON.stringify(dataset)}; expected one of ${DATASETS.join(', ')}`);
}

/**
 * `n` points uniform in [-1, 1]^2 from a seeded generator, with their labels.
 * @param {string} dataset
 * @param {number} n
 * @param {number} seed
 * @returns {{x: Float32Array, y: Float32Array, n: number}} x is row-major [n, 2], y is [n]
 */
export function uniformSet(dataset, n, seed) {
  const rand = mulberry32(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const a = 2 * rand() - 1;
    const b = 2 * rand() - 1;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    // Label the float32 values actually fed to the network.
    y[i] = label(dataset, x[2 * i], x[2 * i + 1]);
  }
  return {x, y, n};
}

/** Side of the test grid. */
export const GRID_SIDE = 200;

/**
 * The test set: the 200 x 200 grid of cell centres (-0.995, -0.985, ..., 0.995)^2, row-major
 * with y (second coordinate) as the row index: point `i * 200 + j` is `(g_j, g_i)`.
 * @param {string} dataset
 * @returns {{x: Float32Array, y: Float32Array, n: number, side: number, centres: Float64Array}}
 */
export function gridSet(dataset) {
  const side = GRID_SIDE;
  const centres = new Float64Array(side);
  for (let k = 0; k < side; ++k) centres[k] = -1 + (2 * k + 1) / side;
  const n = side * side;
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < side; ++i) {
    for (let j = 0; j < side; ++j) {
      const p = i * side + j;
      x[2 * p] = centres[j];
      x[2 * p + 1] = centres[i];
      y[p] = label(dataset, x[2 * p], x[2 * p + 1]);
    }
  }
  return {x, y, n, side, centres};
}

/**
 * Training (1500), validation (1500) and test (grid) sets of a dataset for a seed. The
 * training and validation points come from independent streams derived from the seed.
 * @param {string} dataset
 * @param {number} seed
 * @param {{train?: number, val?: number}} [sizes]
 */
export function makeDataset(dataset, seed, sizes = {}) {
  if (!DATASETS.includes(dataset)) label(dataset, 0, 0);  // throws the clear error
  return {
    name: dataset,
    train: uniformSet(dataset, sizes.train ?? 1500, deriveSeed(seed, `${dataset}:train`)),
    val: uniformSet(dataset, sizes.val ?? 1500, deriveSeed(seed, `${dataset}:val`)),
    test: gridSet(dataset),
  };
}
