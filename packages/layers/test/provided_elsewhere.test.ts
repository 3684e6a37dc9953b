// A saved model holding a layer of @deepspline/lipschitz, loaded with only @deepspline/layers
// imported: the error names the import (tfjs's own is "Unknown layer: SpectralDense"); once
// @deepspline/lipschitz is imported the same model loads.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@deepspline/layers';

/** A Sequential model's JSON topology holding one layer of class `className`. */
function topology(className: string, config: object): tf.io.ModelArtifacts {
  return {modelTopology: {class_name: 'Sequential', config: {name: 'm', layers: [
    {class_name: className, config: {name: 'lip', batch_input_shape: [null, 4], ...config}}]}}};
}

const CASES: Array<[string, object]> = [
  ['SpectralDense', {units: 2}],
  ['GroupSort', {group_size: 2}],
  ['SpectralConv2D', {filters: 2, kernel_size: [3, 3]}],
  ['ScaledL2NormPooling2D', {pool_size: [2, 2]}],
  ['Householder', {}],
];

beforeAll(async () => { await tf.setBackend('cpu'); });

test.each(CASES)('%s without @deepspline/lipschitz names the import', async (className, config) => {
  await expect(tfl.loadLayersModel(tf.io.fromMemory(topology(className, config)))).rejects.toThrow(
    `${className} is a layer of @deepspline/lipschitz: import '@deepspline/lipschitz' before loading or ` +
    'deserializing a model that holds one');
});

test('with @deepspline/lipschitz imported the real classes replace the stand-ins', async () => {
  await import('@deepspline/lipschitz');
  const model = await tfl.loadLayersModel(tf.io.fromMemory(topology('SpectralDense', {units: 2})));
  expect(model.layers[0]!.getClassName()).toBe('SpectralDense');
  expect(model.predict(tf.ones([1, 4])) instanceof tf.Tensor).toBe(true);
  model.dispose();
});
