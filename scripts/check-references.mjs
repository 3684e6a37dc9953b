#!/usr/bin/env node
// Fails the build when a package's tsconfig.json `references` disagree with the workspace
// packages its package.json depends on (dependencies, peerDependencies, devDependencies,
// optionalDependencies). `tsc -b` builds referenced projects first and resolves their
// declarations, so a missing reference builds against a stale or absent dist/, and an extra
// one hides a dependency npm will not install for our users.
//
// Usage: node scripts/check-references.mjs [repo-root]   (default: this repository)
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'devDependencies',
  'optionalDependencies'];
const SCOPE = '@deepspline/';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const packagesDir = join(root, 'packages');
const rel = (p) => relative(root, p).split('\\').join('/') || '.';

/** tsconfig files are JSONC: strip comments and trailing commas outside strings. */
function parseJsonc(text, file) {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if ((c === '}' || c === ']') && out.trimEnd().endsWith(',')) {
      out = out.trimEnd().slice(0, -1) + c;  // a trailing comma
    } else {
      out += c;
    }
  }
  try {
    return JSON.parse(out);
  } catch (e) {
    throw new Error(`${rel(file)} is not valid JSON: ${e.message}`);
  }
}

function readJson(file) {
  return parseJsonc(readFileSync(file, 'utf8'), file);
}

if (!existsSync(packagesDir)) {
  console.error(`check-references: no packages/ directory under ${root}`);
  process.exit(1);
}

const packages = readdirSync(packagesDir)
  .map((d) => join(packagesDir, d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({dir, pkg: readJson(join(dir, 'package.json'))}));
const byDir = new Map(packages.map(({dir, pkg}) => [dir, pkg.name]));
const byName = new Map(packages.map(({dir, pkg}) => [pkg.name, dir]));

const problems = [];
for (const {dir, pkg} of packages) {
  const where = `${pkg.name} (${rel(dir)})`;
  const tsconfigFile = join(dir, 'tsconfig.json');

  const deps = new Map();  // workspace package name -> the package.json fields naming it
  for (const field of DEPENDENCY_FIELDS) {
    for (const name of Object.keys(pkg[field] ?? {})) {
      if (!name.startsWith(SCOPE) && !byName.has(name)) continue;
      if (!byName.has(name)) {
        problems.push(`${where}: package.json ${field} names ${name}, which is not a ` +
          `package under ${rel(packagesDir)}/`);
        continue;
      }
      if (name === pkg.name) continue;
      deps.set(name, [...(deps.get(name) ?? []), field]);
    }
  }

  if (!existsSync(tsconfigFile)) {
    if (deps.size > 0) problems.push(`${where}: depends on ${[...deps.keys()].join(', ')} but ` +
      `has no tsconfig.json to reference them`);
    continue;
  }

  const refs = new Map();  // workspace package name -> the reference path as written
  const references = readJson(tsconfigFile).references ?? [];
  if (!Array.isArray(references)) {
    problems.push(`${where}: ${rel(tsconfigFile)} "references" must be an array, got ` +
      JSON.stringify(references));
    continue;
  }
  for (const ref of references) {
    const path = ref?.path;
    if (typeof path !== 'string') {
      problems.push(`${where}: ${rel(tsconfigFile)} has a reference without a "path": ` +
        JSON.stringify(ref));
      continue;
    }
    let target = resolve(dir, path);
    if (existsSync(target) && statSync(target).isFile()) target = dirname(target);
    const name = byDir.get(target);
    if (name == null) {
      problems.push(`${where}: ${rel(tsconfigFile)} references "${path}" (${rel(target)}), ` +
        `which is not a package under ${rel(packagesDir)}/`);
    } else if (refs.has(name)) {
      problems.push(`${where}: ${rel(tsconfigFile)} references ${name} twice`);
    } else {
      refs.set(name, path);
    }
  }

  for (const [name, fields] of deps) {
    if (!refs.has(name)) {
      problems.push(`${where}: package.json ${fields.join(' and ')} names ${name}, but ` +
        `${rel(tsconfigFile)} has no reference to it (add {"path": ` +
        `"${relative(dir, byName.get(name)).split('\\').join('/')}"})`);
    }
  }
  for (const [name, path] of refs) {
    if (!deps.has(name)) {
      problems.push(`${where}: ${rel(tsconfigFile)} references "${path}" (${name}), but ` +
        `package.json does not depend on ${name}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`check-references: tsconfig.json references and package.json workspace ` +
    `dependencies disagree:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-references: ${packages.length} packages, tsconfig references match ` +
  `their workspace dependencies`);
