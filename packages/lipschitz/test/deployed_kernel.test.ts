/**
 * The kernel a spectral layer deploys (its inference kernel) has an exact norm <= its
 * `lipschitz` (times the window coefficient for convolutions), from ml-matrix's float64 SVD of
 * the float32 kernel: the float32 division by the norm used to leave it up to 1e-7 above.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SpectralConv2D, SpectralDense, spectralConv2d, spectralDense} from '@deepspline/lipschitz';
import {rng, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

test('the deployed kernel of 96 random spectral layers is never above lipschitz, and within 1e-6 of it', () => {
  const r = rng(8);
  const above: string[] = [];
  const loose: string[] = [];
  for (let trial = 0; trial < 96; ++trial) {
    const lipschitz = [1, 0.7, 2.5, 1 / 3][trial % 4]!;
    const orthonormalize = trial % 3 === 0 ? 'bjorck' as const : 'none' as const;
    const conv = trial % 2 === 1;
    let layer: SpectralDense | SpectralConv2D;
    let windows = 1;
    if (conv) {
      const kernelSize = int(r, 1, 3);
      const strides = int(r, 1, 3);
      windows = Math.min(kernelSize, Math.ceil(kernelSize / strides)) ** 2;
      layer = spectralConv2d({filters: int(r, 1, 6), kernelSize, strides, lipschitz, orthonormalize, inputShape: [6, 6, int(r, 1, 4)]});
    } else {
      layer = spectralDense({units: int(r, 2, 30), lipschitz, orthonormalize, inputShape: [int(r, 2, 30)]});
    }
    const model = tfl.sequential({layers: [layer]});
    const [k, ...rest] = layer.getWeights();
    const next = tf.randomNormal(k!.shape, 0, 1, 'float32', trial);
    layer.setWeights([next, ...rest]);
    next.dispose();
    const kernel = layer.effectiveKernel();
    const units = kernel.shape[kernel.shape.length - 1]!;
    const sigma = spectralNormSvd(kernel.dataSync(), kernel.size / units, units);
    // by construction ||conv|| <= sqrt(windows) ||K|| <= lipschitz; ml-matrix's SVD is exact to ~1e-15
    const ratio = sigma * Math.sqrt(windows) / lipschitz;
    if (!(ratio <= 1 + 1e-13)) above.push(`${layer.getClassName()} ${orthonormalize}: ${ratio}`);
    if (!(ratio >= 1 - 1e-6)) loose.push(`${layer.getClassName()} ${orthonormalize}: ${ratio}`);
    model.dispose();
  }
  expect(above).toEqual([]);
  expect(loose).toEqual([]);
});
