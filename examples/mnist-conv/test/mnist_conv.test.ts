// Smoke test of the convolutional MNIST example: runs the real script (on the BUILT packages)
// with --quick (1 epoch on 1,000 images, 500 test images), checks its outputs, then re-checks
// the saved model's certificates and the committed reference's with verify.mjs.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {exampleOutputDir, root, runScript} from '../../shared/test/example_cli';

const script = join(root, 'examples/mnist-conv/index.mjs');
const verify = join(root, 'examples/mnist-conv/verify.mjs');

const run = (file: string, args: string[]) => runScript(file, args, 300000);

describe('examples/mnist-conv', () => {
  const out = exampleOutputDir('mnist-conv-');

  it('--help lists the options; bad options get a clear message', () => {
    const r = run(script, ['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--quick', '--activation', '--epochs', '--tau', '--holdout', '--no-bjorck', '--out']) expect(r.stdout).toContain(opt);
    expect(r.stdout).toContain('no Conv2DBackpropFilter');
    const bad = run(script, ['--activation', 'relu']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--activation: expected one of spline, groupsort, got "relu"');
    expect(run(script, ['--tau=0']).stderr).toContain('--tau: expected a number > 0, got "0"');
  });

  it('--quick trains, certifies and saves a 1-Lipschitz conv net; verify.mjs reproduces it', () => {
    const r = run(script, ['--quick', '--quiet', '--out', out()]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const results = JSON.parse(readFileSync(join(out(), 'results.json'), 'utf8'));
    expect(results.trainSize).toBe(1000);
    expect(results.evalSize).toBe(500);
    const m = results.model;
    expect(m.lipschitzBound).toBeGreaterThan(0);
    expect(m.lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
    expect(m.loss).toHaveLength(1);
    const certified = results.epsilons.map((e: number) => m.certified[String(e)]);
    certified.forEach((c: number, i: number) => expect(c).toBeLessThanOrEqual(i === 0 ? m.cleanAccuracy : certified[i - 1]));
    expect(m.curve[0]).toBeCloseTo(m.cleanAccuracy, 10);
    const svg = readFileSync(join(out(), 'certified_accuracy.svg'), 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(readFileSync(join(out(), 'results.md'), 'utf8')).toContain('| conv_spline_lip1 |');
    const v = run(verify, [out()]);
    expect(v.stderr).not.toMatch(/error/i);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('ok: the saved model reproduces results.json');
  });

  it('the committed reference run reproduces from its saved model', () => {
    const v = run(verify, []);
    expect(v.stderr).not.toMatch(/error/i);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('ok: the saved model reproduces results.json');
    const results = JSON.parse(readFileSync(join(root, 'examples/mnist-conv/reference/results.json'), 'utf8'));
    expect(results.schedule.name).toBe('full');
    expect(results.trainSize).toBe(8000);
  });
});
