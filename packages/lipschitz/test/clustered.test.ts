/**
 * Norm-2 factors of kernels with clustered spectra (orthogonally initialised Dense, Björck
 * orthonormalised spectral layers) are never below the exact largest singular value, from
 * ml-matrix's float64 SVD of the float32 kernel. A Lanczos residual test alone only proves
 * that *some* singular value is near its estimate; on such spectra that was not always the
 * largest one.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SpectralDense, lipschitzBound, matrixNorm, spectralDense} from '@deepspline/lipschitz';
import {orthogonalFactor, rng, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

interface Kernel { name: string; w: Float32Array; rows: number; cols: number }

/** Orthogonal `[rows, cols]` kernels (Q of a QR, as an orthogonal initializer makes) and Björck ones. */
function clusteredKernels(count: number, seed: number): Kernel[] {
  const r = rng(seed);
  const out: Kernel[] = [];
  for (let i = 0; i < count; ++i) {
    const rows = int(r, 4, 48);
    const cols = int(r, 4, 48);
    const kind = i % 3;
    if (kind < 2) {
      // Q of a QR factorization (an orthogonal initialisation), times a gain; kind 1 also
      // spreads its columns by up to 1e-7 (a cluster with tiny gaps)
      const n = Math.max(rows, cols);
      const q = orthogonalFactor(Float64Array.from({length: n * n}, () => 2 * r() - 1), n);
      const gain = 0.5 + r();
      const spread = Array.from({length: cols}, () => (kind === 1 ? 1 - 1e-7 * r() : 1) * gain);
      const w = new Float32Array(rows * cols);
      for (let a = 0; a < rows; ++a) for (let b = 0; b < cols; ++b) w[a * cols + b] = q[a * n + b]! * spread[b]!;
      out.push({name: `${kind === 0 ? 'orthogonal' : 'clustered'} [${rows}, ${cols}]`, w, rows, cols});
    } else {
      const layer = spectralDense({units: cols, orthonormalize: 'bjorck', bjorckSteps: int(r, 5, 25), inputShape: [rows]});
      const model = tfl.sequential({layers: [layer]});
      const k = tf.randomNormal([rows, cols], 0, 1, 'float32', i);
      layer.setWeights([k, ...layer.getWeights().slice(1)]);
      k.dispose();
      out.push({name: `Björck [${rows}, ${cols}]`, w: (layer as SpectralDense).effectiveKernel().dataSync() as Float32Array,
        rows, cols});
      model.dispose();
    }
  }
  return out;
}

describe('norm 2 of clustered spectra is an upper bound', () => {
  test('matrixNorm and lipschitzBound never below the SVD over 96 kernels, and within 1e-7', () => {
    const below: string[] = [];
    const loose: string[] = [];
    for (const {name, w, rows, cols} of clusteredKernels(96, 26)) {
      const truth = spectralNormSvd(w, rows, cols);
      const model = tfl.sequential({layers: [tfl.layers.dense({units: cols, useBias: false, inputShape: [rows]})]});
      const kt = tf.tensor2d(w, [rows, cols]);
      model.layers[0]!.setWeights([kt]);
      kt.dispose();
      for (const bound of [matrixNorm(w, rows, cols, 2), lipschitzBound(model, {norm: 2}).bound]) {
        // ml-matrix's SVD is accurate to a few ulps
        if (!(bound >= truth * (1 - 1e-14))) below.push(`${name}: ${bound} < ${truth}`);
        if (!(bound <= truth * (1 + 1e-7))) loose.push(`${name}: ${bound} > ${truth}`);
      }
      model.dispose();
    }
    expect(below).toEqual([]);
    expect(loose).toEqual([]);
  });
});
