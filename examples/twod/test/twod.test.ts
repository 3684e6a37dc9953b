// Smoke test of the 2-D benchmark example: runs the real script (on the BUILT packages, as
// `npm start` does) with a tiny schedule and checks that its outputs exist and are sane.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

const root = resolve(__dirname, '../../..');
const script = join(root, 'examples/twod/index.mjs');
const MODELS = ['relu', 'leaky_relu', 'prelu', 'spline', 'spline_lip1'];

function run(args: string[]): {stdout: string, stderr: string, status: number | null} {
  const r = spawnSync(process.execPath, [script, ...args], {cwd: root, encoding: 'utf8', timeout: 90000});
  return {stdout: r.stdout, stderr: r.stderr, status: r.status};
}

/** A well-formed standalone SVG document (parse-ish: balanced root, declared size, no NaN). */
function expectSvg(text: string) {
  expect(text.startsWith('<?xml')).toBe(true);
  expect(text).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* width="\d+" height="\d+"/);
  expect(text.trim().endsWith('</svg>')).toBe(true);
  expect((text.match(/<svg/g) ?? []).length).toBe(1);
  expect(text).not.toMatch(/NaN|undefined|Infinity/);
}

describe('examples/twod', () => {
  let out: string;
  beforeAll(() => {
    for (const pkg of ['core', 'layers', 'lipschitz']) {
      if (!existsSync(join(root, `packages/${pkg}/dist/esm/index.js`))) {
        throw new Error(`packages/${pkg} is not built; run npm run build first (npm test does)`);
      }
    }
    out = mkdtempSync(join(tmpdir(), 'twod-'));
  });
  afterAll(() => rmSync(out, {recursive: true, force: true}));

  it('--help lists the options', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--dataset', '--models', '--epochs', '--lambda', '--seed', '--backend', '--out',
      '--full', '--sweep']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('rejects bad options with a clear message', () => {
    const r = run(['--backend', 'gpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--backend: expected cpu or wasm, got "gpu"');
    expect(run(['--epochs', '0']).stderr).toContain('--epochs: expected an integer >= 1, got "0"');
  });

  it('a tiny run writes a sane table, results.json, results.md and pictures', () => {
    const r = run(['--dataset', 'circle', '--epochs', '1', '--train-size', '200', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Schedule: custom: 1 epochs');
    const rows = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(rows.map((row: {model: string}) => row.model)).toEqual(MODELS);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['activeKnots', 'dataset', 'lipschitzBound', 'model',
        'paperBound', 'params', 'seconds', 'testAccuracy'].sort());
      expect(row.dataset).toBe('circle');
      expect(row.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.testAccuracy).toBeLessThanOrEqual(1);
      // 40000 grid points: the accuracy is a multiple of 1/40000.
      expect(Math.abs(row.testAccuracy * 40000 - Math.round(row.testAccuracy * 40000))).toBeLessThan(1e-6);
      expect(row.lipschitzBound).toBeGreaterThan(0);
      expect(row.seconds).toBeGreaterThan(0);
      const spline = row.model.startsWith('spline');
      // Parameters: 2-4-4-1 dense (+ 8 PReLU alphas, or 2 x 4 x 21 spline coefficients and
      // no first bias for the spline nets).
      expect(row.params).toBe({relu: 37, leaky_relu: 37, prelu: 45, spline: 201, spline_lip1: 201}[row.model as string]);
      if (spline) {
        expect(row.paperBound).toBeGreaterThan(0);
        expect(Number.isInteger(row.activeKnots)).toBe(true);
        expect(row.activeKnots).toBeGreaterThanOrEqual(0);
        expect(row.activeKnots).toBeLessThanOrEqual(8 * 19);
      } else {
        expect(row.paperBound).toBeNull();
        expect(row.activeKnots).toBeNull();
      }
    }
    // The constrained net's bound is held under the target 1.
    expect(rows[4].lipschitzBound).toBeLessThanOrEqual(1 + 1e-3);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| dataset | model |');
    expect(md.split('\n').filter((l) => l.startsWith('| circle |')).length).toBe(5);
    const files = readdirSync(out).filter((f) => f.endsWith('.svg')).sort();
    expect(files).toEqual([...MODELS.map((m) => `circle_${m}_decision.svg`),
      'circle_prelu_activations.svg', 'circle_spline_activations.svg', 'circle_spline_lip1_activations.svg'].sort());
    for (const f of files) expectSvg(readFileSync(join(out, f), 'utf8'));
    const act = readFileSync(join(out, 'circle_spline_activations.svg'), 'utf8');
    // 8 splines x 21 knots drawn as dots.
    expect((act.match(/<circle /g) ?? []).length).toBe(8 * 21);
    expect((act.match(/<polyline /g) ?? []).length).toBe(8);
  });

  it('runs on the wasm backend', () => {
    const dir = join(out, 'wasm');
    const r = run(['--backend', 'wasm', '--dataset', 'circle', '--models', 'spline', '--epochs', '1',
      '--train-size', '100', '--no-plots', '--out', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Backend: wasm');
    const [row] = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(row.testAccuracy).toBeGreaterThan(0);
    expect(row.testAccuracy).toBeLessThanOrEqual(1);
  });

  it('is deterministic for a seed (same numbers except seconds)', () => {
    const args = ['--dataset', 's_shape', '--models', 'prelu,spline', '--epochs', '1', '--train-size', '100',
      '--no-plots', '--seed', '7'];
    const strip = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
      .map(({seconds: _s, ...rest}: {seconds: number}) => rest);
    const a = join(out, 'a');
    const b = join(out, 'b');
    const c = join(out, 'c');
    expect(run([...args, '--out', a]).status).toBe(0);
    expect(run([...args, '--out', b]).status).toBe(0);
    expect(run([...args.slice(0, -1), '8', '--out', c]).status).toBe(0);
    expect(strip(b)).toEqual(strip(a));
    expect(strip(c)).not.toEqual(strip(a));
  });
});
