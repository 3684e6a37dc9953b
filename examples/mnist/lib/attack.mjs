/**
 * An l2 PGD attack (Madry et al. 2018) on a classifier's logits: an empirical UPPER bound on
 * the robust accuracy at a radius, beside the certified lower bound.
 *
 * Each restart starts at a uniformly random point of the l2 ball of radius eps around the image
 * (clipped to the pixel box [0, 1]) and takes `steps` normalised-gradient steps of size
 * `2.5 eps / steps` on the margin `max_{j != y} z_j - z_y`, each followed by the projection on the
 * ball and the box. An image counts as broken as soon as any iterate of any restart has a
 * positive margin (the label is not the argmax). Images already misclassified, or broken at a
 * smaller radius (the balls are nested), are not attacked again.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Default attack: 50 steps, 3 random restarts. */
export const PGD = {steps: 50, restarts: 3};

/**
 * Robust accuracy against PGD at each radius.
 * @param {(x: tf.Tensor2D) => tf.Tensor2D} logits the logit map `[b, d] -> [b, classes]`
 * @param {{x: tf.Tensor2D, labels: Uint8Array}} images the images `[n, d]` (pixels in [0, 1]) and their labels
 * @param {number[]} epsilons l2 radii, ascending
 * @param {{steps?: number, restarts?: number, seed?: number, batchSize?: number,
 *   skip?: (eps: number) => boolean[], onProgress?: (done: number, total: number) => void}} [options]
 *   `skip(eps)[i]`: image i needs no attack at eps because it is certified robust there (it
 *   counts as robust; verify.mjs attacks certified images to test the certificates)
 * @returns {{accuracy: number[], robust: boolean[][], attacked: number[]}} per radius: the
 *   share of images that are correct and unbroken, the per-image verdicts, the images attacked
 */
export function pgdAccuracy(logits, images, epsilons, options = {}) {
  const {steps = PGD.steps, restarts = PGD.restarts, seed = 0, batchSize = 1000, skip, onProgress} = options;
  for (let i = 1; i < epsilons.length; ++i) {
    if (!(epsilons[i] > epsilons[i - 1])) throw new Error(`pgdAccuracy: expected ascending radii, got ${epsilons.join(', ')}`);
  }
  const n = images.labels.length;
  const {margins, classes} = marginsOf(logits, images.x, images.labels, batchSize);
  const alive = Array.from(margins, (m) => m <= 0);  // correct and not broken so far
  const robust = [];
  const attacked = [];
  let rngSeed = seed;
  epsilons.forEach((eps, e) => {
    const skipped = skip ? skip(eps) : new Array(n).fill(false);
    const targets = [];
    for (let i = 0; i < n; ++i) if (alive[i] && !skipped[i]) targets.push(i);
    attacked.push(targets.length);
    for (let start = 0; start < targets.length; start += batchSize) {
      const chunk = targets.slice(start, start + batchSize);
      const broken = attackChunk(logits, images, chunk, eps, {steps, restarts, classes, seed: (rngSeed += 7919)});
      chunk.forEach((i, k) => { if (broken[k]) alive[i] = false; });
      onProgress?.(e + (start + chunk.length) / Math.max(1, targets.length), epsilons.length);
    }
    if (targets.length === 0) onProgress?.(e + 1, epsilons.length);
    robust.push(alive.slice());
  });
  return {accuracy: robust.map((r) => r.filter(Boolean).length / n), robust, attacked};
}

/**
 * The margins `max_{j != y} z_j - z_y` of every image (positive: misclassified), and the
 * number of logits.
 */
function marginsOf(logits, x, labels, batchSize) {
  const n = labels.length;
  const out = new Float32Array(n);
  let classes = 0;
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const m = tf.tidy(() => {
      const z = logits(tf.slice(x, [s, 0], [b, x.shape[1]]));
      classes = z.shape[1];
      return margin(z, oneHot(labels.subarray(s, s + b), classes));
    });
    out.set(m.dataSync(), s);
    m.dispose();
  }
  return {margins: out, classes};
}

const oneHot = (labels, classes) => tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes));

/** `max_{j != y} z_j - z_y` per row; `hot` is the one-hot label. */
function margin(z, hot) {
  const own = tf.sum(tf.mul(z, hot), 1);
  const other = tf.max(tf.sub(z, tf.mul(hot, 1e9)), 1);
  return tf.sub(other, own);
}

/**
 * Runs the restarts on the images `chunk`; returns which of them were broken. Every step is
 * one forward and one backward pass: the margins of the current iterates come out of the
 * gradient's forward pass. Every 10 steps the broken images leave the batch.
 */
function attackChunk(logits, images, chunk, eps, {steps, restarts, seed, classes}) {
  const broken = new Array(chunk.length).fill(false);
  const alpha = (2.5 * eps) / steps;
  for (let r = 0; r < restarts; ++r) {
    let rows = chunk.map((_, k) => k).filter((k) => !broken[k]);  // positions in chunk still unbroken
    if (rows.length === 0) break;
    let batch = select(images, chunk, rows, classes);
    let x = tf.tidy(() => project(tf.add(batch.x0, randomInBall(rows.length, images.x.shape[1], eps, seed + 101 * r)), batch.x0, eps));
    for (let s = 0; s <= steps; ++s) {
      const hot = batch.hot;
      let margins = null;
      const gradOf = tf.valueAndGrad((xs) => {
        const m = margin(logits(xs), hot);
        margins = tf.keep(tf.clone(m));
        return tf.sum(m);
      });
      const last = s === steps;
      const grad = last ? null : tf.tidy(() => gradOf(x).grad);
      if (last) margins = tf.tidy(() => margin(logits(x), hot));
      const values = margins.dataSync();
      margins.dispose();
      let alive = 0;
      values.forEach((v, k) => { if (v > 0) broken[rows[k]] = true; else ++alive; });
      if (last || alive === 0) {
        grad?.dispose();
        break;
      }
      const next = tf.tidy(() => {
        const norm = tf.maximum(tf.norm(grad, 2, 1, true), 1e-12);
        return project(tf.add(x, tf.mul(tf.div(grad, norm), alpha)), batch.x0, eps);
      });
      grad.dispose();
      x.dispose();
      x = next;
      if (s % 10 === 9 && alive < rows.length) {
        // Drop the broken images from the batch.
        const keep = rows.map((k, i) => [k, i]).filter(([k]) => !broken[k]);
        const at = tf.tensor1d(Int32Array.from(keep, ([, i]) => i), 'int32');
        const kept = tf.gather(x, at);
        at.dispose();
        x.dispose();
        x = kept;
        disposeBatch(batch);
        rows = keep.map(([k]) => k);
        batch = select(images, chunk, rows, classes);
      }
    }
    x.dispose();
    disposeBatch(batch);
  }
  return broken;
}

/** The clean images and one-hot labels of `chunk[rows[i]]`. */
function select(images, chunk, rows, classes) {
  const ids = Int32Array.from(rows, (k) => chunk[k]);
  const idx = tf.tensor1d(ids, 'int32');
  const x0 = tf.gather(images.x, idx);
  idx.dispose();
  return {x0, hot: oneHot(Int32Array.from(ids, (i) => images.labels[i]), classes)};
}

function disposeBatch(batch) {
  batch.x0.dispose();
  batch.hot.dispose();
}

/** Uniform in the l2 ball of radius eps in d dimensions: a Gaussian direction, radius eps u^(1/d). */
function randomInBall(b, d, eps, seed) {
  return tf.tidy(() => {
    const g = tf.randomNormal([b, d], 0, 1, 'float32', seed);
    const u = tf.pow(tf.randomUniform([b, 1], 0, 1, 'float32', seed + 1), 1 / d);
    return tf.mul(tf.div(g, tf.norm(g, 2, 1, true)), tf.mul(u, eps));
  });
}

/** Projects on the l2 ball of radius eps around x0, then on the pixel box [0, 1]. */
function project(x, x0, eps) {
  const d = tf.sub(x, x0);
  const scale = tf.minimum(1, tf.div(eps, tf.maximum(tf.norm(d, 2, 1, true), 1e-12)));
  return tf.clipByValue(tf.add(x0, tf.mul(d, scale)), 0, 1);
}
