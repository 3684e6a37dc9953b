/**
 * scripts/check-references.mjs (run first by `npm run build`): each package's tsconfig.json
 * references exactly the workspace packages its package.json depends on.
 */
import {spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync,
  writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const root = join(__dirname, '..');
const script = join(root, 'scripts', 'check-references.mjs');

function check(dir?: string) {
  const r = spawnSync(process.execPath, dir == null ? [script] : [script, dir],
    {encoding: 'utf8'});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

/** A copy of every packages/<name>/{package,tsconfig}.json, which is all the script reads. */
function copyPackageManifests(): string {
  const dir = mkdtempSync(join(tmpdir(), 'check-references-'));
  for (const name of readdirSync(join(root, 'packages'))) {
    const from = join(root, 'packages', name);
    if (!existsSync(join(from, 'package.json'))) continue;
    mkdirSync(join(dir, 'packages', name), {recursive: true});
    for (const f of ['package.json', 'tsconfig.json']) {
      if (existsSync(join(from, f))) copyFileSync(join(from, f), join(dir, 'packages', name, f));
    }
  }
  return dir;
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void) {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
}

let copy: string;
beforeEach(() => {
  copy = copyPackageManifests();
});
afterEach(() => {
  rmSync(copy, {recursive: true, force: true});
});

test('the repository passes', () => {
  const r = check();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/tsconfig references match their workspace dependencies/);
});

test('an unchanged copy passes', () => {
  expect(check(copy).status).toBe(0);
});

test('a reference to a package that is not a dependency fails, naming both', () => {
  editJson(join(copy, 'packages/layers/tsconfig.json'), (t) => {
    t.references = [{path: '../core'}, {path: '../webgl'}];
  });
  const r = check(copy);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('@deepspline/layers (packages/layers): ' +
    'packages/layers/tsconfig.json references "../webgl" (@deepspline/webgl), ' +
    'but package.json does not depend on @deepspline/webgl');
});

test('a dependency without a reference fails, naming both', () => {
  editJson(join(copy, 'packages/lipschitz/tsconfig.json'), (t) => {
    t.references = [{path: '../core'}];
  });
  const r = check(copy);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('@deepspline/lipschitz (packages/lipschitz): package.json ' +
    'peerDependencies and devDependencies names @deepspline/layers, but packages/lipschitz/tsconfig.json has no ' +
    'reference to it');
});

test('a devDependency counts, and a reference may name the tsconfig file', () => {
  editJson(join(copy, 'packages/webgl/package.json'), (p) => {
    p.devDependencies = {'@deepspline/layers': '^0.1.0'};
  });
  expect(check(copy).stderr).toContain('package.json devDependencies names @deepspline/layers');
  editJson(join(copy, 'packages/webgl/tsconfig.json'), (t) => {
    t.references = [{path: '../core'}, {path: '../layers/tsconfig.json'}];
  });
  expect(check(copy).status).toBe(0);
});

test('a reference outside packages/ fails', () => {
  writeFileSync(join(copy, 'packages/core/tsconfig.json'),
    '{\n  // comments and trailing commas are allowed in tsconfig.json\n' +
    '  "references": [{"path": "../../docs"},],\n}\n');
  const r = check(copy);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('@deepspline/core (packages/core): packages/core/tsconfig.json ' +
    'references "../../docs" (docs), which is not a package under packages/');
});
