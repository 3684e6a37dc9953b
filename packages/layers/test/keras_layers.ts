/**
 * Layer classes of Keras (keras.layers, 2.x and 3.x), written out independently of the
 * package's STANDARD_LAYER_CLASSES: an exported model.json may hold only these.
 */
export const KERAS_LAYERS = new Set(['InputLayer', 'Dense', 'Reshape', 'Permute', 'PReLU', 'ReLU',
  'DepthwiseConv2D', 'Conv1D', 'Conv2D', 'Cropping2D', 'Minimum', 'Maximum', 'Concatenate',
  'Flatten', 'MaxPooling2D', 'Activation', 'Add', 'LeakyReLU', 'BatchNormalization', 'Dropout',
  'GlobalAveragePooling2D']);
