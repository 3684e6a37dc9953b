// The training benchmark of `npm run bench` (bench/run.mjs; alone: `node bench/training.mjs
// [--quick]`): samples/s of model.fit (batch 256, Adam) for 784-W-W-10 MLPs, W in {256, 512},
// with ReLU, spline (size 21), and 1-Lipschitz nets (spectralDense with Björck: 15 steps at the
// first training step, then the default trainingBjorckSteps per step from the kernel the
// previous step wrote back) with ReLU, GroupSort(2) and slope-clipped splines, on wasm (with
// @deepspline/wasm's registerTransposingMatMul) and cpu; plus the plain ReLU and spline MLPs
// on wasm with tfjs's own matMul kernel (what the opt-in brings). Ratios are to the same
// backend's and width's ReLU MLP in the same run. Cases are interleaved round by round; each
// figure is the median over rounds. Then, when /usr/bin/python3 imports torch, the same nets
// in PyTorch (bench/torch_training.py) in the same run.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {registerTransposingMatMul, restoreTfjsMatMul} from '@deepspline/wasm';
import {splineActivation} from '@deepspline/layers';
import {groupSort, spectralDense} from '@deepspline/lipschitz';
import {execFileSync} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const NETS = ['relu', 'spline', 'relu_lip1', 'groupsort_lip1', 'spline_lip1'];
export const WIDTHS = [256, 512];
const BATCH = 256;

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A 784-W-W-10 MLP of kind `net` (one of NETS), softmax output, compiled with Adam. */
export function trainingNet(net, width) {
  const lip = net.endsWith('_lip1');
  const act = net.replace('_lip1', '');
  const layers = [];
  for (let i = 0; i < 3; ++i) {
    const units = i === 2 ? 10 : width;
    const args = {units, inputShape: i === 0 ? [784] : undefined,
      kernelInitializer: tfl.initializers.glorotUniform({seed: i + 1})};
    layers.push(lip ? spectralDense({...args, orthonormalize: 'bjorck'}) : tfl.layers.dense(args));
    if (i === 2) break;
    if (act === 'relu') layers.push(tfl.layers.activation({activation: 'relu'}));
    else if (act === 'groupsort') layers.push(groupSort({groupSize: 2}));
    else layers.push(splineActivation({size: 21, range: 2, ...(lip ? {maxSlope: 1} : {})}));
  }
  layers.push(tfl.layers.activation({activation: 'softmax'}));
  const model = tfl.sequential({layers});
  model.compile({optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy'});
  return model;
}

/**
 * Samples/s per case: `{backend, matMul, net, width, samplesPerSecond, overRelu}` rows.
 * `log(msg)` reports progress.
 */
export async function trainingBench({quick = false, log = () => {}} = {}) {
  const N = quick ? 512 : 1024;
  const rounds = quick ? 2 : 4;
  const rows = [];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const variants = [];
    for (const width of WIDTHS) {
      for (const net of NETS) variants.push({net, width, matMul: backend === 'wasm' ? 'transposing' : 'tfjs'});
      if (backend === 'wasm') {
        for (const net of ['relu', 'spline']) variants.push({net, width, matMul: 'tfjs'});
      }
    }
    const xs = tf.randomNormal([N, 784], 0, 1, 'float32', 3);
    const ys = tf.oneHot(tf.randomUniform([N], 0, 10, 'int32', 4), 10);
    const models = variants.map((v) => trainingNet(v.net, v.width));
    const fit = async (i) => {
      const fix = variants[i].matMul === 'transposing';
      if (fix) registerTransposingMatMul();
      try {
        const start = performance.now();
        await models[i].fit(xs, ys, {batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0});
        return N / ((performance.now() - start) / 1000);
      } finally {
        if (fix) restoreTfjsMatMul();
      }
    };
    const samples = variants.map(() => []);
    for (let i = 0; i < variants.length; ++i) await fit(i);  // warm-up: optimizer slots, Björck cold start
    for (let r = 0; r < rounds; ++r) {
      for (let i = 0; i < variants.length; ++i) samples[i].push(await fit(i));
      log(`training ${backend}: round ${r + 1}/${rounds}`);
    }
    const sps = samples.map(median);
    variants.forEach((v, i) => {
      const relu = variants.findIndex((w) => w.net === 'relu' && w.width === v.width && w.matMul === v.matMul);
      rows.push({backend, ...v, samplesPerSecond: sps[i], overRelu: sps[i] / sps[relu]});
    });
    models.forEach((m) => m.dispose());
    tf.dispose([xs, ys]);
  }
  return rows;
}

/**
 * The same nets in PyTorch (bench/torch_training.py) when /usr/bin/python3 imports torch:
 * `{available: false, reason}` or `{available: true, torch, blas, threads, rows}`.
 */
export function torchBench({quick = false} = {}) {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_training.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, ...(quick ? ['--quick'] : [])],
      {encoding: 'utf8', env: {...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1'},
        stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24});
    return {available: true, ...JSON.parse(out)};
  } catch (e) {
    const reason = String(e.stderr || e.message).trim().split('\n').at(-1);
    return {available: false, reason};
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const t0 = performance.now();
  const log = (msg) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
  const rows = await trainingBench({quick, log});
  for (const r of rows) console.log(`${r.backend} ${r.matMul} ${r.net} W=${r.width}: ${r.samplesPerSecond.toFixed(0)} samples/s, ${r.overRelu.toFixed(2)}x relu`);
  const torch = torchBench({quick});
  console.log(JSON.stringify(torch));
}
