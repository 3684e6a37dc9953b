// The 2-D datasets' label rules and splits, against the README's definitions written out
// here in float64 (not read from data.mjs), and the errors for unknown dataset names.
import {spawnSync} from 'node:child_process';
import {join, resolve} from 'node:path';
import {DATASETS, PAPER_DATASETS, gridSet, label, makeDataset} from '../lib/data.mjs';

// svg.mjs has no type declarations: its picture function, typed here.
const {decisionRegionSvg}: {decisionRegionSvg: (args: {probabilities: Float32Array, side: number, dataset: string,
  title: string, accuracy: number}) => string} = jest.requireActual('../lib/svg.mjs');

const root = resolve(__dirname, '../../..');

/** The README's annulus: 1 where 0.95^2 - 2/pi < x^2 + y^2 < 0.95^2. */
const INNER = Math.sqrt(0.9025 - 2 / Math.PI);   // 0.515636...
const OUTER = 0.95;

describe('examples/twod datasets', () => {
  it('names circle, s_shape and annulus; the default run (all) is the paper\'s two', () => {
    expect(DATASETS).toEqual(['circle', 's_shape', 'annulus']);
    expect(PAPER_DATASETS).toEqual(['circle', 's_shape']);
    const {parseArgs}: {parseArgs: (argv: string[]) => {datasets: string[]}} = jest.requireActual('../lib/cli.mjs');
    expect(parseArgs([]).datasets).toEqual(['circle', 's_shape']);
    expect(parseArgs(['--dataset', 'all']).datasets).toEqual(['circle', 's_shape']);
    expect(parseArgs(['--dataset', 'annulus']).datasets).toEqual(['annulus']);
  });

  it('annulus: 1 strictly between the two circles, 0 inside the inner and outside the outer', () => {
    expect(INNER).toBeCloseTo(0.515636, 5);
    for (const angle of [0, 0.3, 1, Math.PI / 2, 2.5, Math.PI, 4, 5.5]) {
      const at = (r: number) => label('annulus', r * Math.cos(angle), r * Math.sin(angle));
      expect(at(0)).toBe(0);
      expect(at(INNER - 1e-6)).toBe(0);
      expect(at(INNER + 1e-6)).toBe(1);
      expect(at((INNER + OUTER) / 2)).toBe(1);
      expect(at(OUTER - 1e-6)).toBe(1);
      expect(at(OUTER + 1e-6)).toBe(0);
    }
    for (const [x, y] of [[1, 1], [-1, 1], [1, -1], [-1, -1], [0.99, 0], [0, -0.97]]) expect(label('annulus', x, y)).toBe(0);
    expect(label('annulus', 0.7, 0)).toBe(1);
    expect(label('annulus', 0.5, 0.1)).toBe(0);        // r = 0.5099 < 0.5156
    expect(label('annulus', 0.5, 0.15)).toBe(1);       // r = 0.5220
  });

  it('annulus: the grid and the random splits label every point by the rule, about half of them 1', () => {
    // The ring's area is pi (0.95^2 - inner^2) = 2, half of the square's 4.
    expect(Math.PI * (OUTER * OUTER - INNER * INNER)).toBeCloseTo(2, 12);
    const grid = gridSet('annulus');
    let ones = 0;
    let wrong = 0;
    for (let p = 0; p < grid.n; ++p) {
      const r = Math.hypot(grid.x[2 * p], grid.x[2 * p + 1]);
      if (grid.y[p] !== (r > INNER && r < OUTER ? 1 : 0)) ++wrong;
      ones += grid.y[p];
    }
    expect(wrong).toBe(0);
    expect(Math.abs(ones / grid.n - 0.5)).toBeLessThan(0.005);
    const data = makeDataset('annulus', 0);
    for (const split of [data.train, data.val]) {
      expect(split.n).toBe(1500);
      let k = 0;
      let wrongSplit = 0;
      for (let i = 0; i < split.n; ++i) {
        const r = Math.hypot(split.x[2 * i], split.x[2 * i + 1]);
        if (split.y[i] !== (r > INNER && r < OUTER ? 1 : 0)) ++wrongSplit;
        k += split.y[i];
      }
      expect(wrongSplit).toBe(0);
      // 1500 fair draws: 5 standard deviations is 0.065.
      expect(Math.abs(k / split.n - 0.5)).toBeLessThan(0.065);
    }
    expect(data.test.n).toBe(40000);
  });

  it('the paper\'s datasets keep their rules', () => {
    expect(label('circle', 0.79, 0)).toBe(1);          // 0.6241 < 2/pi = 0.6366
    expect(label('circle', 0.8, 0)).toBe(0);           // 0.64
    expect(label('s_shape', 0, 0)).toBe(1);
    expect(label('s_shape', 0.4 * Math.sin(-5 * 0.5) + 0.29, 0.5)).toBe(1);
    expect(label('s_shape', 0.4 * Math.sin(-5 * 0.5) + 0.31, 0.5)).toBe(0);
    expect(label('s_shape', 0, 0.81)).toBe(0);
  });

  it('an unknown name is an error listing the three datasets', () => {
    const expected = 'unknown dataset "moons"; expected one of circle, s_shape, annulus';
    expect(() => label('moons', 0, 0)).toThrow(expected);
    expect(() => makeDataset('moons', 0)).toThrow(expected);
    const r = spawnSync(process.execPath, [join(root, 'examples/twod/index.mjs'), '--dataset', 'moons'],
      {cwd: root, encoding: 'utf8', timeout: 60000});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--dataset: expected circle, s_shape, annulus or all, got "moons"');
  });

  it('the annulus decision picture draws both true circles', () => {
    const side = 4;
    const svg = decisionRegionSvg({probabilities: new Float32Array(side * side), side, dataset: 'annulus',
      title: 'annulus', accuracy: 0.5});
    const d = svg.match(/<path d="([^"]+)"/)![1];
    // Two closed sub-paths; their points' distances from the centre (pixels: 200 per unit) are the radii.
    const subpaths = d.split('M').filter((s: string) => s.trim().length > 0);
    expect(subpaths.length).toBe(2);
    const radii = subpaths.map((s: string) => {
      const [x, y] = s.replace('Z', '').trim().split(' L')[7].split(',').map(Number);
      return Math.hypot(x - 240, y - 240) / 200;
    });
    expect(radii[0]).toBeCloseTo(INNER, 2);
    expect(radii[1]).toBeCloseTo(OUTER, 2);
  });
});
