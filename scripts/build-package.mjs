#!/usr/bin/env node
// Builds the package in the current directory:
//   dist/esm   ES modules + declarations (`tsc -b`: project references build dependencies first)
//   dist/cjs   CommonJS + declarations (what Node loads for both `import` and `require`)
//   dist/deepspline-<name>.min.js   a minified script-tag bundle on the `tf` global (published packages)
// then the small package.json markers that tell Node (and TypeScript) which module system
// each folder uses, and inlines the TypeScript sources into every JavaScript source map (the
// sources are shipped too, in src/, where the declaration maps point: go-to-definition lands there).
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {build} from 'esbuild';
import {umdGlobalName, umdExternals} from './umd-globals.mjs';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const fail = (msg) => {
  console.error(`build failed in ${process.cwd()}: ${msg}`);
  process.exit(1);
};
const run = (args) => {
  try {
    execFileSync(process.execPath, [tsc, ...args], {stdio: 'inherit'});
  } catch {
    fail(`tsc ${args.join(' ')}`);
  }
};

// A clean start for tsc's outputs (never dist/wasm, written by the wasm package's own step):
// a source deleted since the last build would otherwise leave its .js, .d.ts and map behind,
// to be packed and shipped.
for (const f of existsSync('dist') ? readdirSync('dist') : []) {
  if (f === 'esm' || f === 'cjs' || f.endsWith('.tsbuildinfo')) rmSync(join('dist', f), {recursive: true, force: true});
}
run(['-b', 'tsconfig.json']);
const cjsConfig = 'dist/tsconfig.cjs.json';
mkdirSync('dist', {recursive: true});
writeFileSync(cjsConfig, JSON.stringify({
  extends: '../tsconfig.json',
  compilerOptions: {
    module: 'CommonJS', moduleResolution: 'Node10', outDir: 'cjs', composite: false,
    incremental: false, tsBuildInfoFile: null,
  },
}, null, 2));
run(['-p', cjsConfig]);
rmSync(cjsConfig);
for (const [dir, type] of [['dist/esm', 'module'], ['dist/cjs', 'commonjs']]) {
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'package.json'), JSON.stringify({type}) + '\n');
}

/**
 * Adds `sourcesContent` to a tsc source map of JavaScript (`.js.map`) from the sources it names.
 * Not to declaration maps: TypeScript ignores a declaration map that has `sourcesContent`, and
 * go-to-definition then stops in the `.d.ts` instead of the shipped `src/*.ts`.
 */
function inlineSources(mapFile) {
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  const base = resolve(dirname(mapFile), map.sourceRoot ?? '');
  map.sourcesContent = map.sources.map((s) => readFileSync(resolve(base, s), 'utf8'));
  writeFileSync(mapFile, JSON.stringify(map));
}
for (const dir of ['dist/esm', 'dist/cjs']) {
  for (const f of readdirSync(dir, {recursive: true})) if (f.endsWith('.js.map')) inlineSources(join(dir, f));
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
// A private (unpublished) workspace package needs no script-tag bundle.
if (pkg.private) process.exit(0);
const globalName = umdGlobalName(pkg.name);
const outfile = `dist/deepspline-${pkg.name.slice('@deepspline/'.length)}.min.js`;
if (pkg.unpkg !== `./${outfile}` || pkg.jsdelivr !== `./${outfile}`) {
  fail(`package.json: unpkg and jsdelivr must be "./${outfile}", got ${pkg.unpkg} and ${pkg.jsdelivr}`);
}
// A package with an `/internal` subpath (backend-author internals) exposes it on its global
// too, as `.internal`: other bundles import it from there.
const internal = existsSync('src/internal.ts');
await build({
  ...(internal ? {stdin: {contents: "export * from './src/index.ts';\nexport * as internal from './src/internal.ts';\n",
    resolveDir: process.cwd(), sourcefile: 'generated:bundle-entry.ts', loader: 'ts'}} : {entryPoints: ['src/index.ts']}),
  outfile,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  globalName,
  platform: 'browser',
  target: 'es2020',
  banner: {js: `/** ${pkg.name} ${pkg.version} (${pkg.license}): script-tag build on the tf global, as ${globalName} */`},
  plugins: [umdExternals],
  logLevel: 'warning',
}).catch((e) => fail(`esbuild ${outfile}: ${e.message}`));
