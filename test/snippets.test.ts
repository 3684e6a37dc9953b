/**
 * Every ```js snippet in the READMEs runs as written (as an ES module from the repository
 * root, against the built packages), in Node and bundled as a bundler would (esbuild with
 * the `module`/`import` conditions, so our packages come from their ES module builds; tfjs
 * stays external, as in a server bundle). A block with imports starts a program; a block without
 * imports continues the program above it. Fragments that are not meant to run are ```ts
 * blocks; a program meant for a browser starts with `// browser` and is skipped here.
 */
import {execFileSync} from 'node:child_process';
import {builtinModules} from 'node:module';
import {buildSync} from 'esbuild';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, relative} from 'node:path';

const root = join(__dirname, '..');
const readmes = [join(root, 'README.md'),
  ...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d, 'README.md'))]
  .filter(existsSync);

const snippets: Array<[string, string]> = [];
for (const file of readmes) {
  const text = readFileSync(file, 'utf8');
  const re = /```js\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null;
  let i = 0;
  let chain: {first: number, last: number, code: string} | null = null;
  const flush = () => {
    if (chain == null) return;
    const range = chain.first === chain.last ? `#${chain.first}` : `#${chain.first}-#${chain.last}`;
    snippets.push([`${relative(root, file)} ${range}`, chain.code]);
    chain = null;
  };
  while ((m = re.exec(text)) !== null) {
    ++i;
    const code = m[1];
    if (/^\s*\/\/ browser/.test(code)) continue;
    if (/^import /m.test(code) || chain == null) {
      // a block with imports starts a program
      flush();
      chain = {first: i, last: i, code};
    } else {
      // a block without imports continues the program above it
      chain.last = i;
      chain.code += `\n${code}`;
    }
  }
  flush();
}

const dir = join(root, 'test', '.snippets');

test('there are snippets to run', () => {
  expect(snippets.length).toBeGreaterThan(2);
});

function run(name: string, file: string) {
  try {
    execFileSync(process.execPath, [file], {cwd: root, encoding: 'utf8', timeout: 120000,
      stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    const err = e as {stderr?: string, stdout?: string};
    throw new Error(`${name} failed:\n${err.stderr ?? ''}\n${err.stdout ?? ''}`);
  }
}

const fileOf = (name: string, suffix: string) => join(dir, name.replace(/[^a-z0-9]+/gi, '_') + suffix);

test.each(snippets)('%s runs', (name, code) => {
  mkdirSync(dir, {recursive: true});
  const file = fileOf(name, '.mjs');
  writeFileSync(file, code);
  run(name, file);
});

test.each(snippets)('%s runs bundled (esbuild, ES module builds)', (name, code) => {
  mkdirSync(dir, {recursive: true});
  const source = fileOf(name, '.mjs');
  const file = fileOf(name, '.bundle.mjs');
  writeFileSync(source, code);
  const {metafile} = buildSync({entryPoints: [source], outfile: file, bundle: true, format: 'esm',
    platform: 'neutral', mainFields: ['module', 'main'], conditions: ['module', 'import'], target: 'es2022',
    external: ['@tensorflow/*', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    logLevel: 'silent', metafile: true});
  const ours = Object.keys(metafile!.inputs).filter((f) => /packages\/[a-z]+\/dist\//.test(f));
  expect(ours.every((f) => /\/dist\/esm\//.test(f))).toBe(true);
  run(name, file);
});
