// Smoke test of the existing-model example: runs the real script (on the BUILT packages)
// with a tiny schedule, then converts the saved original model again from its model.json;
// both runs end by exporting to stock tfjs layers and reloading that with plain tfjs.
import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {NOTICE_EXPLAINED} from '../../shared/tfjs_notice.mjs';
import {exampleOutputDir, root, runForTerminal, runScript} from '../../shared/test/example_cli';

const script = join(root, 'examples/existing-model/index.mjs');

/** Runs the script; returns what a terminal shows: stdout and stderr in the order they were written. */
function run(args: string[]) {
  const {status, output} = runForTerminal(script, args, 90000);
  if (status !== 0) throw new Error(`exit ${status}\n${output}`);
  return output;
}

/** Checks a saved tfjs layers model: JSON topology naming the layers, and the weight bytes. */
function expectSavedModel(dir: string, splineLayers: number) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const layers = json.modelTopology.config.layers as {class_name: string}[];
  expect(layers.filter((l) => l.class_name === 'SplineActivation').length).toBe(splineLayers);
  const specs = json.weightsManifest[0].weights as {shape: number[], dtype: string}[];
  const bytes = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  expect(statSync(join(dir, 'weights.bin')).size).toBe(bytes);
}

describe('examples/existing-model', () => {
  const out = exampleOutputDir('existing-model-');

  it('bad and unknown options get a clear message naming them', () => {
    const cases: Array<[string, string[], string]> = [
      [script, ['--bogus'], "error: Unknown option '--bogus' (see --help)"],
      [script, ['--lambda=-1'], 'error: --lambda: expected a number >= 0, got "-1"'],
      [script, ['--samples', '5'], 'error: --samples: expected an integer >= 10, got "5"'],
      [script, ['--out'], "error: Option '--out <value>' argument missing (see --help)"],
      [join(root, 'examples/existing-model/load_standard.mjs'), ['--x'], "error: Unknown option '--x'"],
    ];
    for (const [file, args, message] of cases) {
      const r = runScript(file, args, 90000);
      expect({args, status: r.status, stderr: r.stderr.split('\n')[0]}).toEqual({args, status: 2, stderr: message});
    }
  });

  it('converts, fine-tunes, saves and reloads the built-in conv net', () => {
    const stdout = run(['--epochs', '2', '--pretrain-epochs', '1', '--samples', '64', '--out', out()]);
    // tfjs's Node notice first, once, explained, then our own lines; a zero difference reads 0
    const notice = 'Hi, looks like you are running TensorFlow.js in Node.js';
    expect(stdout.split(notice).length).toBe(2);
    expect(stdout.indexOf(notice)).toBeLessThan(stdout.indexOf(NOTICE_EXPLAINED));
    expect(stdout.indexOf(NOTICE_EXPLAINED)).toBeLessThan(stdout.indexOf('Built the ReLU conv net'));
    expect(stdout).not.toMatch(/\b0\.0+e\+0\b/);
    expect(stdout).toContain('loaded back: 3 spline layers, regularizer TV2; max |difference| of the predictions: 0\n');
    expect(stdout).toContain('Converted: 3 spline layers (conv1_spline, conv2_spline, hidden_spline)');
    const s = JSON.parse(readFileSync(join(out(), 'summary.json'), 'utf8'));
    expect(s.splineLayers).toEqual(['conv1_spline', 'conv2_spline', 'hidden_spline']);
    // conv1: 8 channels, conv2: 8, hidden: 16 -> 32 splines x 21 coefficients; the first dense
    // and both convs keep their biases.
    expect(s.splineParams - s.originalParams).toBe(32 * 21);
    expect(s.conversionMaxDiff).toBeLessThan(1e-5);
    expect(s.reloadMaxDiff).toBe(0);
    expect(s.loadedSplineLayers).toBe(3);
    expect(s.loadedRegularizer).toBe('TV2');
    expect(s.history.loss.length).toBe(2);
    expect(s.history.lipschitz.length).toBe(2);
    for (const v of s.history.lipschitz) expect(v).toBeGreaterThan(0);
    expect(s.history.lipschitz[1]).toBeCloseTo(s.lipschitzBound, 4);
    expect(s.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(s.testAccuracy).toBeLessThanOrEqual(1);
    expectSavedModel(join(out(), 'spline'), 3);
    expectSavedModel(join(out(), 'original'), 0);
    // The export to stock layers, reloaded by plain tfjs in another process.
    expect(stdout).toContain('reloaded with plain tfjs');
    expect(s.exportMaxRelDiff).toBeLessThan(1e-5);
    expectSavedModel(join(out(), 'standard'), 0);
    const standard = JSON.parse(readFileSync(join(out(), 'standard/model.json'), 'utf8'));
    const classes = new Set((standard.modelTopology.config.layers as {class_name: string}[]).map((l) => l.class_name));
    expect([...classes].sort()).toEqual(['Conv2D', 'Dense', 'DepthwiseConv2D', 'Flatten', 'InputLayer',
      'MaxPooling2D', 'Minimum', 'Permute', 'ReLU', 'Reshape']);
    expect(s.standardClasses.sort()).toEqual([...classes].sort());
  });

  it('converts a model loaded from a model.json (--model)', () => {
    const out2 = join(out(), 'from-json');
    const stdout = run(['--model', join(out(), 'original/model.json'), '--epochs', '1', '--samples', '32',
      '--out', out2]);
    expect(stdout).toContain('Loaded');
    const s = JSON.parse(readFileSync(join(out2, 'summary.json'), 'utf8'));
    expect(s.model).toBe('small_cnn');
    expect(s.conversionMaxDiff).toBeLessThan(1e-5);
    expect(s.reloadMaxDiff).toBe(0);
    expect(s.testMse).toBeGreaterThanOrEqual(0);
    expect(s.exportMaxRelDiff).toBeLessThan(1e-5);
  });
});
