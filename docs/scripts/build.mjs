#!/usr/bin/env node
// Builds the docs site into docs/dist (or --out DIR), in three steps: TypeDoc writes the API
// pages into docs/api (failing on an undocumented or unexported symbol or a broken link,
// docs/typedoc.config.mjs); VitePress builds the site (failing on a dead link or bad TeX,
// docs/.vitepress/config.mts); esbuild bundles the live demo next to it (scripts/demo.mjs).
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {buildDemo} from './demo.mjs';

const DOCS = dirname(dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
// The VitePress config reads DOCS_OUT, so that `vitepress preview` finds the same folder.
const OUT = resolve(outIndex >= 0 ? argv[outIndex + 1] : process.env.DOCS_OUT || join(DOCS, 'dist'));
process.env.DOCS_OUT = OUT;

const timings = [];
async function step(name, fn) {
  const start = performance.now();
  const result = await fn();
  timings.push(`${name} ${((performance.now() - start) / 1000).toFixed(1)}s`);
  return result;
}

// TypeDoc reads the other workspace packages a package imports through their built types
// (packages/testing is private: sources only, not documented).
const PACKAGES = join(DOCS, '..', 'packages');
const unbuilt = readdirSync(PACKAGES)
  .map((dir) => [dir, JSON.parse(readFileSync(join(PACKAGES, dir, 'package.json'), 'utf8'))])
  .filter(([, pkg]) => !pkg.private)
  // the declarations the package's `types` field names (what TypeDoc resolves)
  .filter(([dir, pkg]) => !existsSync(join(PACKAGES, dir, pkg.types ?? 'dist/types/index.d.ts')))
  .map(([dir]) => dir);
if (unbuilt.length) {
  console.error(`docs build failed: packages not built (${unbuilt.join(', ')}): run \`npm run build\` first ` +
    '(`npm run docs` does)');
  process.exit(1);
}

try {
  await step('api', () => execFileSync(process.execPath,
    [join(DOCS, '..', 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', 'typedoc.config.mjs'],
    {cwd: DOCS, stdio: 'inherit'}));
  const {build} = await import('vitepress');
  await step('site', () => build(DOCS));
  const demo = await step('demo', () => buildDemo(join(OUT, 'demo')));
  console.log(`docs: built ${OUT}; demo ${(demo.bytes / 1e6).toFixed(1)} MB; ${timings.join(', ')}`);
} catch (err) {
  console.error(`docs build failed: ${err.message}`);
  process.exit(1);
}
