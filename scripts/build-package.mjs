#!/usr/bin/env node
// Builds the package in the current directory: ESM + declarations with `tsc -b` (project
// references build dependencies first), then CommonJS into dist/cjs, then the small
// package.json markers that tell Node which module system each folder uses.
import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const run = (args) => {
  try {
    execFileSync(process.execPath, [tsc, ...args], {stdio: 'inherit'});
  } catch {
    console.error(`build failed in ${process.cwd()}: tsc ${args.join(' ')}`);
    process.exit(1);
  }
};

run(['-b', 'tsconfig.json']);
const cjsConfig = 'dist/tsconfig.cjs.json';
mkdirSync('dist', {recursive: true});
writeFileSync(cjsConfig, JSON.stringify({
  extends: '../tsconfig.json',
  compilerOptions: {
    module: 'CommonJS', moduleResolution: 'Node10', outDir: 'cjs', declaration: false,
    declarationMap: false, declarationDir: null, composite: false, incremental: false,
    tsBuildInfoFile: null,
  },
}, null, 2));
run(['-p', cjsConfig]);
rmSync(cjsConfig);
for (const [dir, type] of [['dist/esm', 'module'], ['dist/cjs', 'commonjs']]) {
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'package.json'), JSON.stringify({type}) + '\n');
}
