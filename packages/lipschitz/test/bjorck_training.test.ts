/**
 * Björck training re-orthonormalizes the kernel variable in place (warm start across steps):
 * after training steps every singular value of the kernel (ml-matrix SVD in float64) is within
 * the tolerance of 1, a wide and a tall kernel alike, and the training-time function equals the
 * deployed (certified) one up to that tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SingularValueDecomposition, Matrix} from 'ml-matrix';
import {groupSort, losses, spectralDense, SpectralDense} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

const singularValues = (t: tf.Tensor) => new SingularValueDecomposition(new Matrix(t.arraySync() as number[][]),
  {autoTranspose: true}).diagonal;

test('after Björck training steps the kernels are orthonormal and training = inference', async () => {
  const model = tfl.sequential({layers: [
    spectralDense({units: 24, inputShape: [6], orthonormalize: 'bjorck',
      kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),   // wide [6, 24]
    groupSort({groupSize: 2}),
    spectralDense({units: 10, orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),  // tall
    groupSort({groupSize: 2}),
    spectralDense({units: 1, orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}),
  ]});
  model.compile({optimizer: tf.train.adam(1e-2), loss: losses.hingeMargin({margin: 0.1})});
  const r = rng(5);
  const xs = tf.tensor2d(Array.from({length: 64}, () => Array.from({length: 6}, () => 2 * r() - 1)));
  const ys = tf.tensor2d(Array.from({length: 64}, (_, i) => [i % 2 ? 1 : -1]));
  await model.fit(xs, ys, {epochs: 5, batchSize: 16, verbose: 0});
  // one more forward pass in training mode orthonormalizes after the optimizer's last step
  const trainingOut = tf.tidy(() => (model.apply(xs, {training: true}) as tf.Tensor).arraySync() as number[][]);
  for (const layer of model.layers.filter((l) => l instanceof SpectralDense)) {
    const kernel = layer.getWeights()[0]!;
    for (const s of singularValues(kernel)) expect(Math.abs(s - 1)).toBeLessThan(0.02);
  }
  const deployed = (model.predict(xs) as tf.Tensor).arraySync() as number[][];
  deployed.forEach(([y], i) => expect(Math.abs(y! - trainingOut[i]![0]!)).toBeLessThan(3e-3));
  tf.dispose([xs, ys]);
  model.dispose();
});
