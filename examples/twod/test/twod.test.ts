// Smoke test of the 2-D benchmark example: runs the real script (on the BUILT packages, as
// `npm start` does) with a tiny schedule and checks that its outputs exist and are sane.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

const root = resolve(__dirname, '../../..');
const script = join(root, 'examples/twod/index.mjs');
const MODELS = ['relu', 'leaky_relu', 'prelu', 'spline', 'spline_sparse', 'relu_lip1', 'groupsort_lip1', 'spline_lip1'];
const LIPSCHITZ = MODELS.filter((m) => m.endsWith('_lip1'));

interface Stat { mean: number, std: number | null }
interface Run {
  seed: number, testAccuracy: number, certifiedAccuracy: Record<string, number>, lipschitzBound: number,
  paperBound: number | null, activeKnots: number | null, seconds: number, exactActiveKnots: number | null,
  valAccuracy: number
}
interface Row {
  dataset: string, model: string, seeds: number[], testAccuracy: Stat, certifiedAccuracy: Record<string, Stat>,
  lipschitzBound: Stat & {max: number}, paperBound: Stat | null, activeKnots: Stat | null, params: number,
  seconds: Stat, certifiedCurve?: {epsilons: number[], accuracy: number[]}, runs: Run[],
  exactActiveKnots: (Stat & {perSeed: number[]}) | null, valAccuracy: Stat, lambda?: number,
  selection?: Array<{lambda: number, valAccuracy: number, exactActiveKnots: number}>, solver?: string
}

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
    for (const opt of ['--dataset', '--models', '--seeds', '--epochs', '--lambda', '--tau', '--seed', '--backend',
      '--out', '--full', '--sweep']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('rejects bad options with a clear message', () => {
    const r = run(['--backend', 'gpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--backend: expected cpu or wasm, got "gpu"');
    expect(run(['--epochs', '0']).stderr).toContain('--epochs: expected an integer >= 1, got "0"');
    expect(run(['--seeds', '1.5']).stderr).toContain('--seeds: expected an integer >= 1, got "1.5"');
    const unknown = run(['--bogus']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
  });

  it('a tiny run writes a sane table, results.json, results.md and pictures', () => {
    const r = run(['--dataset', 'circle', '--epochs', '1', '--train-size', '200', '--seeds', '1', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Schedule: custom: 1 epochs');
    const rows: Row[] = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(rows.map((row) => row.model)).toEqual(MODELS);
    const inUnit = (v: number) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      // 40000 grid points: accuracies are multiples of 1/40000.
      expect(Math.abs(v * 40000 - Math.round(v * 40000))).toBeLessThan(1e-6);
    };
    for (const row of rows) {
      const lip = LIPSCHITZ.includes(row.model);
      const sparse = row.model === 'spline_sparse';
      expect(Object.keys(row).sort()).toEqual(['activeKnots', 'certifiedAccuracy', 'dataset', 'exactActiveKnots',
        'lipschitzBound', 'model', 'paperBound', 'params', 'runs', 'seconds', 'seeds', 'testAccuracy', 'valAccuracy',
        ...(lip ? ['certifiedCurve'] : []), ...(sparse ? ['lambda', 'selection'] : [])].sort());
      expect(row.dataset).toBe('circle');
      expect(row.seeds).toEqual([0]);
      expect(row.runs.length).toBe(1);
      const [one] = row.runs;
      expect(one.seed).toBe(0);
      inUnit(one.testAccuracy);
      expect(row.testAccuracy).toEqual({mean: one.testAccuracy, std: null});
      expect(Object.keys(one.certifiedAccuracy)).toEqual(['0.05', '0.1']);
      // Certified points are correct points; a larger radius certifies fewer.
      inUnit(one.certifiedAccuracy['0.05']);
      expect(one.certifiedAccuracy['0.05']).toBeLessThanOrEqual(one.testAccuracy);
      expect(one.certifiedAccuracy['0.1']).toBeLessThanOrEqual(one.certifiedAccuracy['0.05']);
      expect(one.lipschitzBound).toBeGreaterThan(0);
      expect(one.seconds).toBeGreaterThan(0);
      const spline = row.model.startsWith('spline');
      // Trainable parameters: 2-4-4-1 dense (+ 8 PReLU alphas, or 2 x 4 x 21 spline coefficients
      // and no first bias for the spline nets).
      expect(row.params).toBe(spline ? 201 : row.model === 'prelu' ? 45 : 37);
      if (spline) {
        expect(one.paperBound).toBeGreaterThan(0);
        expect(Number.isInteger(one.activeKnots)).toBe(true);
        expect(one.activeKnots).toBeGreaterThanOrEqual(0);
        expect(one.activeKnots).toBeLessThanOrEqual(8 * 19);
        // the default threshold is 0: exact non-zeros
        expect(one.exactActiveKnots).toBe(one.activeKnots);
        expect(row.exactActiveKnots!.perSeed).toEqual([one.activeKnots]);
      } else {
        expect(one.paperBound).toBeNull();
        expect(one.activeKnots).toBeNull();
      }
      if (lip) {
        // 1-Lipschitz by construction: the certified bound of the logit.
        expect(one.lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
        expect(row.lipschitzBound.max).toBe(one.lipschitzBound);
        const curve = row.certifiedCurve!;
        expect(curve.epsilons[0]).toBe(0);
        expect(curve.accuracy[0]).toBeCloseTo(one.testAccuracy, 6);
        expect(curve.accuracy[curve.epsilons.indexOf(0.1)]).toBe(one.certifiedAccuracy['0.1']);
        for (let k = 1; k < curve.accuracy.length; ++k) expect(curve.accuracy[k]).toBeLessThanOrEqual(curve.accuracy[k - 1]);
      }
    }
    const splineLip = rows.find((row) => row.model === 'spline_lip1')!;
    expect(splineLip.runs[0].lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| dataset | model | test acc % | certified % (r = 0.05) | certified % (r = 0.1) |');
    expect(md.split('\n').filter((l) => l.startsWith('| circle |')).length).toBe(MODELS.length);
    const files = readdirSync(out).filter((f) => f.endsWith('.svg')).sort();
    expect(files).toEqual([...MODELS.map((m) => `circle_${m}_decision.svg`), 'certified.svg',
      'circle_prelu_activations.svg', 'circle_spline_activations.svg', 'circle_spline_sparse_activations.svg',
      'circle_spline_lip1_activations.svg'].sort());
    for (const f of files) expectSvg(readFileSync(join(out, f), 'utf8'));
    const act = readFileSync(join(out, 'circle_spline_activations.svg'), 'utf8');
    // 8 splines x 21 knots drawn as dots.
    expect((act.match(/<circle /g) ?? []).length).toBe(8 * 21);
    expect((act.match(/<polyline /g) ?? []).length).toBe(8);
    expect(act).toContain('red = active (ReLU slope change a_k != 0, exactly)');
    const sparse = rows.find((row) => row.model === 'spline_sparse')!;
    expect(sparse.selection!.map((c) => c.lambda)).toEqual([1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4]);
    expect([1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4]).toContain(sparse.lambda);
    expect(md).toContain(`spline_sparse's lambda (validation): circle ${sparse.lambda}.`);
    const cert = readFileSync(join(out, 'certified.svg'), 'utf8');
    // One curve per 1-Lipschitz model, labelled axes.
    expect((cert.match(/<polyline /g) ?? []).length).toBe(LIPSCHITZ.length);
    expect(cert).toContain('radius r (l2)');
    expect(cert).toContain('certified accuracy %');
    for (const m of LIPSCHITZ) expect(cert).toContain(`>${m}</text>`);
  });

  it('--sweep runs both solvers and writes exact knots per seed', () => {
    const dir = join(out, 'sweep');
    const r = run(['--sweep', '--dataset', 'circle', '--epochs', '1', '--train-size', '100', '--seeds', '1', '--out', dir]);
    expect(r.status).toBe(0);
    const rows: Row[] = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    expect(rows.map((row) => `${row.solver} ${row.lambda}`)).toEqual([
      ...[0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2].map((l) => `subgradient ${l}`),
      ...[0, 3e-5, 1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4, 1e-3, 3e-3, 1e-2].map((l) => `proximal ${l}`)]);
    for (const row of rows) {
      expect(row.exactActiveKnots!.perSeed).toEqual([row.runs[0]!.exactActiveKnots]);
      expect(row.exactActiveKnots!.mean).toBe(row.runs[0]!.exactActiveKnots);
    }
    const md = readFileSync(join(dir, 'sweep.md'), 'utf8');
    expect(md).toContain('| dataset | solver | lambda | test acc % | Lip. bound (certified) | exact active knots (per seed) |');
    expect(md).toContain('then lambda rising over 4, refit from epoch 1)');   // 0.625 of the epochs, rounded
    const svg = readFileSync(join(dir, 'sweep.svg'), 'utf8');
    expectSvg(svg);
    expect(svg).toContain('active knots (a_k != 0, exactly)');
    expect((svg.match(/<polyline /g) ?? []).length).toBe(3 * 2);
  });

  it('runs on the wasm backend', () => {
    const dir = join(out, 'wasm');
    const r = run(['--backend', 'wasm', '--dataset', 'circle', '--models', 'spline,spline_lip1', '--epochs', '1',
      '--train-size', '100', '--seeds', '1', '--no-plots', '--out', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Backend: wasm');
    const rows: Row[] = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    for (const row of rows) {
      expect(row.testAccuracy.mean).toBeGreaterThan(0);
      expect(row.testAccuracy.mean).toBeLessThanOrEqual(1);
    }
    expect(rows[1].lipschitzBound.max).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('is deterministic for a seed (same numbers except seconds); --seeds 2 reports both runs', () => {
    const args = ['--dataset', 's_shape', '--models', 'prelu,spline', '--epochs', '1', '--train-size', '100',
      '--no-plots', '--seeds', '2', '--seed', '7'];
    const strip = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
      .map(({seconds: _s, runs, ...rest}: Row) => ({...rest, runs: runs.map(({seconds: _t, ...r}) => r)}));
    const a = join(out, 'a');
    const b = join(out, 'b');
    const c = join(out, 'c');
    expect(run([...args, '--out', a]).status).toBe(0);
    expect(run([...args, '--out', b]).status).toBe(0);
    expect(run([...args.slice(0, -1), '8', '--out', c]).status).toBe(0);
    expect(strip(b)).toEqual(strip(a));
    expect(strip(c)).not.toEqual(strip(a));
    const [row] = strip(a);
    expect(row.seeds).toEqual([7, 8]);
    expect(row.runs.map((r: Run) => r.seed)).toEqual([7, 8]);
    const accs = row.runs.map((r: Run) => r.testAccuracy);
    expect(row.testAccuracy.mean).toBeCloseTo((accs[0] + accs[1]) / 2, 12);
    expect(row.testAccuracy.std).toBeCloseTo(Math.abs(accs[0] - accs[1]) / Math.SQRT2, 12);
  });
});
