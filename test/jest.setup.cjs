// Runs before every test file: all gradients registered (tfjs-core alone registers none),
// the cpu backend active, and its one-time "install tfjs-node" notice silenced.
require('@tensorflow/tfjs-layers');  // its node bundle registers every gradient
require('@tensorflow/tfjs-backend-cpu');
const tf = require('@tensorflow/tfjs-core');
tf.setBackend('cpu');
const cpu = tf.findBackend('cpu');
if (cpu != null) cpu.firstUse = false;
