// Smoke test of the convolutional MNIST example: runs the real script (on the BUILT packages)
// with --quick (1 epoch on 1,000 images, 500 test images), checks its outputs, then re-checks
// the saved model's certificates and the committed reference's with verify.mjs.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

const root = resolve(__dirname, '../../..');
const script = join(root, 'examples/mnist-conv/index.mjs');
const verify = join(root, 'examples/mnist-conv/verify.mjs');

function run(file: string, args: string[]): {stdout: string, stderr: string, status: number | null} {
  const r = spawnSync(process.execPath, [file, ...args], {cwd: root, encoding: 'utf8', timeout: 300000});
  return {stdout: r.stdout, stderr: r.stderr, status: r.status};
}

describe('examples/mnist-conv', () => {
  let out: string;
  beforeAll(() => {
    for (const pkg of ['core', 'layers', 'lipschitz']) {
      if (!existsSync(join(root, `packages/${pkg}/dist/esm/index.js`))) {
        throw new Error(`packages/${pkg} is not built; run npm run build first (npm test does)`);
      }
    }
    out = mkdtempSync(join(tmpdir(), 'mnist-conv-'));
  });
  afterAll(() => rmSync(out, {recursive: true, force: true}));

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
    const r = run(script, ['--quick', '--quiet', '--out', out]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.trainSize).toBe(1000);
    expect(results.evalSize).toBe(500);
    const m = results.model;
    expect(m.lipschitzBound).toBeGreaterThan(0);
    expect(m.lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
    expect(m.loss).toHaveLength(1);
    const certified = results.epsilons.map((e: number) => m.certified[String(e)]);
    certified.forEach((c: number, i: number) => expect(c).toBeLessThanOrEqual(i === 0 ? m.cleanAccuracy : certified[i - 1]));
    expect(m.curve[0]).toBeCloseTo(m.cleanAccuracy, 10);
    const svg = readFileSync(join(out, 'certified_accuracy.svg'), 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('| conv_spline_lip1 |');
    const v = run(verify, [out]);
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
