// Runs before every test file: all gradients registered (tfjs-core alone registers none),
// the cpu backend active, and its one-time "install tfjs-node" notice silenced.
require('@tensorflow/tfjs-layers');  // its node bundle registers every gradient
require('@tensorflow/tfjs-backend-cpu');
const tf = require('@tensorflow/tfjs-core');
tf.setBackend('cpu');
const cpu = tf.findBackend('cpu');
if (cpu != null) cpu.firstUse = false;

// Math.random is seeded, once per test file, with the test suites' one PRNG (rng of
// @deepspline/testing, mulberry32): tfjs draws unseeded initializers, fit's shuffling and
// dropout from it, so every file sees the same draws on every run and a test cannot pass or
// fail by the luck of a draw. DEEPSPLINE_TEST_SEED=N (a whole number) picks another sequence,
// to look for draws a test does not survive.
{
  const raw = process.env.DEEPSPLINE_TEST_SEED ?? '20261207';
  if (!/^[0-9]+$/.test(raw)) {
    throw new Error(`DEEPSPLINE_TEST_SEED: expected a whole number, got ${JSON.stringify(raw)}`);
  }
  Math.random = require('../packages/testing/src/prng.ts').rng(Number(raw));
}
