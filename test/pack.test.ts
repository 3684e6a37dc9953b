/**
 * Every published package packs its entry points (ESM, CJS), type declarations, README and
 * nothing it should not. Runs on the built packages: `npm test` builds first.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

const root = join(__dirname, '..');
const packagesDir = join(root, 'packages');

interface PackageJson {
  name: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports?: Record<string, string | Record<string, string>>;
  peerDependencies?: Record<string, string>;
  files?: string[];
}

const packages = readdirSync(packagesDir)
  .filter((d) => existsSync(join(packagesDir, d, 'package.json')))
  .map((d) => ({dir: join(packagesDir, d),
    pkg: JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) as PackageJson}))
  .filter(({pkg}) => !pkg.private);

function entryPoints(pkg: PackageJson): string[] {
  const out = new Set<string>();
  for (const f of [pkg.main, pkg.module, pkg.types]) if (f) out.add(f);
  const dot = pkg.exports?.['.'];
  if (dot && typeof dot === 'object') {
    for (const v of Object.values(dot)) if (typeof v === 'string') out.add(v);
  }
  return [...out].map((f) => f.replace(/^\.\//, ''));
}

test('the core and layers packages are published', () => {
  const names = packages.map(({pkg}) => pkg.name);
  expect(names).toEqual(expect.arrayContaining(['@deepspline/core', '@deepspline/layers']));
});

describe.each(packages.map(({dir, pkg}) => [pkg.name, dir, pkg] as [string, string, PackageJson]))(
    '%s', (_name, dir, pkg) => {
  test('npm pack contains the entry points, types and README, and no sources or tests', () => {
    const entries = entryPoints(pkg);
    for (const e of entries) {
      if (!existsSync(join(dir, e))) {
        throw new Error(`${pkg.name}: ${e} is missing; run \`npm run build\` before the tests`);
      }
    }
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'],
      {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    const files = (JSON.parse(out)[0].files as Array<{path: string}>).map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining([...entries, 'package.json', 'README.md']));
    expect(entries.some((e) => e.endsWith('.d.ts'))).toBe(true);
    expect(files.filter((f) => /(^|\/)(test|src)\/|\.test\.|tsbuildinfo/.test(f))).toEqual([]);
  });

  test('tfjs packages are peer dependencies (^4.22.0)', () => {
    const peers = pkg.peerDependencies ?? {};
    expect(Object.keys(peers).length).toBeGreaterThan(0);
    for (const [name, range] of Object.entries(peers)) {
      expect(name).toMatch(/^@tensorflow\/tfjs/);
      expect(range).toBe('^4.22.0');
    }
  });

  test('the ESM and CJS builds load in Node', () => {
    const dot = pkg.exports?.['.'] as Record<string, string>;
    const script = `import(${JSON.stringify(join(dir, dot.import))}).then((m) => {
      const c = require(${JSON.stringify(join(dir, dot.require))});
      const a = Object.keys(m).filter((k) => k !== 'default').sort();
      const b = Object.keys(c).sort();
      if (JSON.stringify(a) !== JSON.stringify(b)) { console.error(a, b); process.exit(1); }
      console.log(a.length);
    })`;
    const n = execFileSync(process.execPath, ['-e', script], {cwd: root, encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']});
    expect(Number(n.trim().split('\n').pop())).toBeGreaterThan(0);
  });
});
