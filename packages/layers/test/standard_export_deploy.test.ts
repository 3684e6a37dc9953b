// The exported model deploys without the plugin: saved to disk, it loads in a fresh Node
// process that can resolve @tensorflow/tfjs and nothing of @deepspline, and predicts the same.
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, exportToStandardLayers, splineActivation} from '../src/index.js';
import {KERAS_LAYERS} from './keras_layers.js';

const root = resolve(__dirname, '../../..');

/** Saves `model` as `<dir>/model.json` + `<dir>/weights.bin` (as examples/shared/fs_io.mjs). */
function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(weightData));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({modelTopology: artifacts.modelTopology,
      format: artifacts.format, generatedBy: artifacts.generatedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs ?? []}]}));
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  });
}

// Plain CommonJS run by `node` in the temporary folder: tfjs only.
const LOADER = `
const fs = require('node:fs');
const path = require('node:path');
let deepspline = 'not found';
try { require.resolve('@deepspline/layers'); deepspline = 'found'; } catch (e) { /* expected */ }
const tf = require('@tensorflow/tfjs');
(async () => {
  const dir = process.argv[2];
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
  const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)}));
  const input = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8'));
  const y = model.predict(tf.tensor(input.data, input.shape));
  fs.writeFileSync(path.join(dir, 'output.json'), JSON.stringify({deepspline,
    tfjs: require.resolve('@tensorflow/tfjs'), classes: model.layers.map((l) => l.getClassName()),
    shape: y.shape, data: Array.from(y.dataSync())}));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('exportToStandardLayers: deployment with plain @tensorflow/tfjs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'deepspline-export-'));
    // The only package this folder can resolve: @tensorflow/* (tfjs and its tfjs-* parts).
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(root, 'node_modules/@tensorflow'), join(dir, 'node_modules/@tensorflow'), 'dir');
    writeFileSync(join(dir, 'load.cjs'), LOADER);
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  it('saves with model.save, loads in a fresh process without @deepspline and predicts the same', async () => {
    expect(dir.startsWith(root)).toBe(false);
    const m = tfl.sequential({layers: [
      tfl.layers.conv2d({inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'conv'}),
      splineActivation({size: 21, range: 1, name: 'conv_spline'}),
      tfl.layers.flatten({name: 'flat'}),
      tfl.layers.dense({units: 4, name: 'hidden'}),
      splineActivation({size: 9, range: 2, shared: true, maxSlope: 2, name: 'hidden_spline'}),
      tfl.layers.dense({units: 2, name: 'out'}),
    ]});
    for (const l of m.layers.filter((l) => l instanceof SplineActivation)) {
      const c = tf.randomUniform(l.getWeights()[0]!.shape, -1, 1, 'float32', 7);
      l.setWeights([c]);
      c.dispose();
    }
    const exported = exportToStandardLayers(m);
    await exported.save(fileSaveHandler(dir));

    const text = readFileSync(join(dir, 'model.json'), 'utf8');
    expect(text).not.toMatch(/SplineActivation|deepspline/i);
    const topology = JSON.parse(text).modelTopology;
    const layers = topology.config.layers as {class_name: string}[];
    for (const l of layers) expect([l.class_name, KERAS_LAYERS.has(l.class_name)]).toEqual([l.class_name, true]);

    const x = tf.randomUniform([5, 6, 6, 2], -3, 3, 'float32', 8);
    writeFileSync(join(dir, 'input.json'), JSON.stringify({shape: x.shape, data: Array.from(x.dataSync())}));
    const env = {...process.env};
    delete env.NODE_PATH;
    const r = spawnSync(process.execPath, [join(dir, 'load.cjs'), dir], {cwd: dir, env, encoding: 'utf8', timeout: 60000});
    if (r.status !== 0) throw new Error(`loader exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(readFileSync(join(dir, 'output.json'), 'utf8'));
    expect(out.deepspline).toBe('not found');
    expect(out.classes).toEqual(layers.map((l) => l.class_name));

    const want = m.predict(x) as tf.Tensor;
    expect(out.shape).toEqual(want.shape);
    const wantData = Array.from(want.dataSync());
    const scale = Math.max(...wantData.map(Math.abs));
    const err = Math.max(...wantData.map((v, i) => Math.abs(v - out.data[i]))) / scale;
    expect(err).toBeLessThan(1e-5);
    tf.dispose([x, want]);
    m.dispose();
    exported.dispose();
  });
});
