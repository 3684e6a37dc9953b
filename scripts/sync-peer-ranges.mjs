#!/usr/bin/env node
// The release policy for @deepspline/* depending on each other (RELEASING.md): a package
// names each sibling it imports as a peer dependency `^X.Y.Z` (so npm installs one copy at
// the top level, or refuses with ERESOLVE, and never nests a second copy), and every range
// admits the sibling's current version. lerna bumps only the devDependency mirror of a
// sibling, so the root `version` lifecycle script (run by `lerna version` after bumping and
// before committing) moves each peer range that no longer admits the new version to
// `^<new version>`, and the same range into devDependencies.
//
//   node scripts/sync-peer-ranges.mjs           rewrite the ranges that fall behind
//   node scripts/sync-peer-ranges.mjs --check   only report them (exit 1 if any)
import {readdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const SCOPE = '@deepspline/';

/** `^0.1.2` admits `0.1.5` but not `0.2.0` (0.x: the minor is the breaking part), `^1.2.0` admits `1.9.0`. */
export function caretAdmits(range, version) {
  const r = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (r == null) throw new Error(`expected a caret range ^X.Y.Z for a @deepspline peer, got ${JSON.stringify(range)}`);
  if (v == null) throw new Error(`expected a release version X.Y.Z, got ${JSON.stringify(version)}`);
  const [R, V] = [r.slice(1).map(Number), v.slice(1).map(Number)];
  const fixed = R[0] > 0 ? 1 : R[1] > 0 ? 2 : 3;  // leading parts that must match
  for (let i = 0; i < fixed; ++i) if (R[i] !== V[i]) return false;
  for (let i = fixed; i < 3; ++i) if (V[i] !== R[i]) return V[i] > R[i];
  return true;
}

/** Every sibling peer range of the packages under `root/packages` that does not admit the sibling's version. */
export function stalePeerRanges(root) {
  const dir = join(root, 'packages');
  const pkgs = readdirSync(dir).map((d) => join(dir, d, 'package.json')).filter(existsSync)
    .map((file) => ({file, json: JSON.parse(readFileSync(file, 'utf8'))}));
  const versions = Object.fromEntries(pkgs.map(({json}) => [json.name, json.version]));
  const stale = [];
  // A private package is never installed by users: only published ones follow the policy.
  for (const {file, json} of pkgs.filter((p) => !p.json.private)) {
    for (const field of ['dependencies', 'optionalDependencies']) {
      const bad = Object.keys(json[field] ?? {}).filter((d) => d.startsWith(SCOPE));
      if (bad.length) throw new Error(`${json.name}: ${bad.join(', ')} must be a peer dependency, not in ${field}`);
    }
    for (const [name, range] of Object.entries(json.peerDependencies ?? {})) {
      if (!name.startsWith(SCOPE)) continue;
      if (!(name in versions)) throw new Error(`${json.name}: peer ${name} is not a package of this repository`);
      const dev = json.devDependencies?.[name];
      if (!caretAdmits(range, versions[name]) || dev !== range) {
        stale.push({file, json, name, range, dev, version: versions[name]});
      }
    }
  }
  return stale;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {check: {type: 'boolean', default: false}}});
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const stale = stalePeerRanges(root);
  for (const s of stale) {
    console.error(`${s.json.name}: peer ${s.name} ${s.range} (devDependency ${s.dev}) vs ${s.name}@${s.version}`);
  }
  if (values.check) process.exit(stale.length ? 1 : 0);
  for (const s of stale) {
    const range = caretAdmits(s.range, s.version) ? s.range : `^${s.version}`;
    s.json.peerDependencies[s.name] = range;
    s.json.devDependencies = {...s.json.devDependencies, [s.name]: range};
  }
  for (const file of new Set(stale.map((s) => s.file))) {
    const {json} = stale.find((s) => s.file === file);
    writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  }
}
