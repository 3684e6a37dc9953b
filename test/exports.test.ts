/**
 * No export name means two things across the packages: every published package's public
 * index (`exports["."]` of its package.json, read from `src/index.ts`) is listed with the
 * TypeScript compiler, values and types alike, and no name may appear in two of them.
 * Nothing is allow-listed. Subpath exports (`/internal`) are for backend and package authors
 * and are not part of this check.
 */
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..');

interface PublicIndex {
  name: string;
  file: string;
}

/** The workspace packages that are published (not `private`), with their index source. */
function publicIndexes(): PublicIndex[] {
  const out: PublicIndex[] = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    let pkg: {name: string, private?: boolean, exports?: Record<string, unknown>};
    try {
      pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (pkg.private === true || pkg.exports?.['.'] == null) continue;
    out.push({name: pkg.name, file: join(root, 'packages', dir, 'src', 'index.ts')});
  }
  return out;
}

/** Export names of each index, values and types (namespaces count once, by their own name). */
function exportNames(indexes: PublicIndex[]): Map<string, string[]> {
  const program = ts.createProgram(indexes.map((i) => i.file), {
    target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, noEmit: true,
    baseUrl: root, paths: {'@deepspline/*': ['packages/*/src/index.ts']},
  });
  const checker = program.getTypeChecker();
  const names = new Map<string, string[]>();
  for (const {name, file} of indexes) {
    const source = program.getSourceFile(file);
    if (source == null) throw new Error(`exports.test: cannot read ${file}`);
    const module = checker.getSymbolAtLocation(source);
    if (module == null) throw new Error(`exports.test: ${file} is not a module`);
    names.set(name, checker.getExportsOfModule(module).map((s) => s.name).sort());
  }
  return names;
}

/** Every name exported by more than one package, with the packages. */
function duplicates(names: Map<string, string[]>): Record<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const [pkg, list] of names) {
    for (const n of list) owners.set(n, [...(owners.get(n) ?? []), pkg]);
  }
  return Object.fromEntries([...owners].filter(([, pkgs]) => pkgs.length > 1).sort());
}

const indexes = publicIndexes();
const names = exportNames(indexes);

test('every published package is checked, and the listing sees values and types', () => {
  expect(indexes.map((i) => i.name)).toEqual(expect.arrayContaining(['@deepspline/core',
    '@deepspline/layers', '@deepspline/lipschitz', '@deepspline/wasm', '@deepspline/webgl']));
  // A value, a type-only export and a namespace: the listing is not the runtime keys only.
  expect(names.get('@deepspline/core')).toEqual(expect.arrayContaining(['linearSpline', 'SplineGrid']));
  expect(names.get('@deepspline/lipschitz')).toEqual(expect.arrayContaining(['losses',
    'LipschitzBoundOptions']));
});

test('the runtime exports of each index are among the listed names', async () => {
  for (const {name, file} of indexes) {
    const runtime = Object.keys(await import(file));
    expect({name, missing: runtime.filter((n) => !names.get(name)!.includes(n))})
      .toEqual({name, missing: []});
  }
});

test('the check finds a name exported by two packages', () => {
  const fake = new Map([['@a/x', ['one', 'two']], ['@a/y', ['two', 'three']]]);
  expect(duplicates(fake)).toEqual({two: ['@a/x', '@a/y']});
});

test('no export name appears in two packages', () => {
  expect(duplicates(names)).toEqual({});
});
