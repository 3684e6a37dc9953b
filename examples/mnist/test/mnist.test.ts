// Smoke test of the MNIST example: runs the real scripts (on the BUILT packages, as
// `npm run example:mnist` does) with `--quick` cut down to 512 training images and one epoch,
// checks the outputs, then re-checks the saved models' certificates with verify.mjs.
import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {exampleOutputDir, expectSvg, root, runScript} from '../../shared/test/example_cli';

const script = join(root, 'examples/mnist/index.mjs');
const verify = join(root, 'examples/mnist/verify.mjs');
const MODELS = ['relu', 'spline', 'relu_lip1', 'groupsort_lip1', 'spline_lip1'];
const EPSILONS = ['0.25', '0.5', '1', '1.58'];

const run = (file: string, args: string[]) => runScript(file, args, 100000);


interface Row {
  model: string, cleanAccuracy: number, lipschitzBound: number, certified: Record<string, number>,
  medianRadius: number, seconds: number, params: number, loss: number[], curve: number[],
}

describe('examples/mnist', () => {
  const out = exampleOutputDir('mnist-', ['core', 'layers', 'lipschitz', 'wasm']);

  it('--help lists the options; bad options get a clear message', () => {
    const r = run(script, ['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--quick', '--models', '--epochs', '--tau', '--lambda', '--bjorck-steps', '--holdout', '--out']) {
      expect(r.stdout).toContain(opt);
    }
    const bad = run(script, ['--tau', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--tau: expected a number > 0, got "0"');
    expect(run(script, ['--models', 'relu,cnn']).stderr).toContain('--models: unknown "cnn"');
    expect(run(script, ['--epochs=0']).stderr).toContain('--epochs: expected an integer >= 1, got "0"');
    for (const [file, flag] of [[script, '--bogus'], [verify, '--quik']]) {
      const unknown = run(file, [flag]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain(`error: Unknown option '${flag}'`);
    }
  });

  it('a cut-down --quick run writes the table, results, plots and models, and verify.mjs re-checks them', () => {
    const r = run(script, ['--quick', '--train-size', '512', '--epochs', '1', '--out', out()]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Backend: wasm');
    expect(r.stdout).toContain('Schedule: custom: 1 epochs, batch 256');
    const results = JSON.parse(readFileSync(join(out(), 'results.json'), 'utf8'));
    expect(results.trainSize).toBe(512);
    expect(results.evalSize).toBe(2000);
    expect(results.evalSet).toBe('test');
    expect(results.evalClassCounts.reduce((a: number, b: number) => a + b, 0)).toBe(2000);
    const rows = results.models as Row[];
    expect(rows.map((row) => row.model)).toEqual(MODELS);
    for (const row of rows) {
      expect(row.cleanAccuracy).toBeGreaterThan(0.1);  // one epoch on 512 images: above chance
      expect(row.cleanAccuracy).toBeLessThanOrEqual(1);
      // 2000 test images: accuracies are multiples of 1/2000.
      expect(Math.abs(row.cleanAccuracy * 2000 - Math.round(row.cleanAccuracy * 2000))).toBeLessThan(1e-6);
      expect(row.lipschitzBound).toBeGreaterThan(0);
      if (row.model.endsWith('_lip1')) expect(row.lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
      expect(Object.keys(row.certified).sort()).toEqual(EPSILONS);
      let previous = row.cleanAccuracy;
      for (const e of EPSILONS) {
        expect(row.certified[e]).toBeLessThanOrEqual(previous);
        previous = row.certified[e];
      }
      expect(row.curve.length).toBe(results.curveEpsilons.length);
      expect(row.curve[0]).toBe(row.cleanAccuracy);
      expect(row.loss.length).toBe(1);
      expect(row.seconds).toBeGreaterThan(0);
      const model = JSON.parse(readFileSync(join(out(), 'models', row.model, 'model.json'), 'utf8'));
      const specs = model.weightsManifest[0].weights as {shape: number[]}[];
      const bytes = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
      expect(statSync(join(out(), 'models', row.model, 'weights.bin')).size).toBe(bytes);
    }
    // 784*256 + 256 + 256*256 + 256 + 256*10 + 10 dense parameters, + 2 x 256 x 21 spline
    // coefficients; the 1-Lipschitz nets are saved as plain dense layers (no power-iteration vectors).
    const dense = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10;
    const spline = dense + 2 * 256 * 21;
    expect(rows.map((row) => row.params)).toEqual([dense, spline, dense, dense, spline]);
    for (const m of ['relu_lip1', 'groupsort_lip1', 'spline_lip1']) {
      const layers = JSON.parse(readFileSync(join(out(), 'models', m, 'model.json'), 'utf8')).modelTopology.config.layers;
      expect(layers.map((l: {class_name: string}) => l.class_name)).not.toContain('SpectralDense');
    }
    const md = readFileSync(join(out(), 'results.md'), 'utf8');
    expect(md).toContain('| model | clean % | certified L |');
    for (const m of MODELS) expect(md).toContain(`| ${m} |`);
    const curve = readFileSync(join(out(), 'certified_accuracy.svg'), 'utf8');
    expectSvg(curve);
    expect((curve.match(/<polyline /g) ?? []).length).toBe(MODELS.length);
    for (const m of MODELS) expect(curve).toContain(`>${m}</text>`);
    const act = readFileSync(join(out(), 'activations.svg'), 'utf8');
    expectSvg(act);
    // Two spline nets x two layers x 8 channels, 21 knots each.
    expect((act.match(/<polyline /g) ?? []).length).toBe(32);
    expect((act.match(/<circle /g) ?? []).length).toBe(32 * 21);

    const v = run(verify, [out()]);
    expect(v.stderr.replace(/^.*Warn.*\n?/gm, '')).toBe('');
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('Every certificate re-checked');
    expect(v.stdout.match(/ ok /g)?.length).toBe(MODELS.length);
  });
});
