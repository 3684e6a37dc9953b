/**
 * Every ```js snippet in the READMEs and the docs' guides runs as written (as an ES module from
 * the repository root, against the built packages), in Node and bundled as a bundler would (esbuild with
 * the `module`/`import` conditions, so our packages come from their ES module builds; tfjs
 * stays external, as in a server bundle). A block with imports starts a program; a block without
 * imports continues the program above it. Fragments that are not meant to run are ```ts
 * blocks; a program meant for a browser starts with `// browser` and is skipped here.
 *
 * The API pages' examples (docs/typedoc/examples/<package>.md) run too, one Node process per
 * package, and every exported function of the published packages must have one.
 */
import {execFileSync, spawn} from 'node:child_process';
import {builtinModules} from 'node:module';
import {buildSync} from 'esbuild';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, relative} from 'node:path';
import ts from 'typescript';
import {apiExamples} from '../docs/typedoc/examples.mjs';

const root = join(__dirname, '..');
const readmes = [join(root, 'README.md'),
  ...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d, 'README.md')),
  ...readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', 'guides', f))]
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

/**
 * The exported functions of each published package (its `src/index.ts`), with the functions
 * of an exported namespace as `namespace.name`.
 */
function exportedFunctions(): Record<string, string[]> {
  const packages = readdirSync(join(root, 'packages'))
    .map((d) => ({dir: d, pkg: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'))}))
    .filter(({pkg}) => !pkg.private);
  const files = packages.map(({dir}) => join(root, 'packages', dir, 'src', 'index.ts'));
  const program = ts.createProgram(files, {target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, noEmit: true,
    baseUrl: root, paths: {'@deepspline/*': ['packages/*/src/index.ts']}});
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const functions = (symbols: ts.Symbol[], prefix: string): string[] => symbols.flatMap((exported) => {
    const s = resolve(exported);
    // functions, and constants that are functions (`export const linearSpline = tf.op(...)`)
    if (s.flags & ts.SymbolFlags.Function || (s.flags & ts.SymbolFlags.Variable && s.valueDeclaration != null &&
        checker.getTypeOfSymbolAtLocation(s, s.valueDeclaration).getCallSignatures().length > 0)) {
      return [prefix + exported.name];
    }
    if (s.flags & ts.SymbolFlags.ValueModule) return functions(checker.getExportsOfModule(s), `${exported.name}.`);
    return [];
  });
  return Object.fromEntries(packages.map(({pkg}, i) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(files[i])!)!;
    return [pkg.name, functions(checker.getExportsOfModule(module), '').sort()];
  }));
}

describe('API examples (docs/typedoc/examples)', () => {
  const examples = apiExamples(join(root, 'docs', 'typedoc', 'examples'));

  test('every exported function of the published packages has one, and each names an exported function', () => {
    const expected = exportedFunctions();
    const listed = Object.fromEntries(Object.keys(expected).map((name) => [name, [...(examples[name]?.keys() ?? [])].sort()]));
    expect(listed).toEqual(expected);
    expect(Object.values(expected).flat().length).toBeGreaterThan(50);
  });

  test.each(Object.keys(examples).filter((name) => examples[name].size > 0))('%s: each example runs as written',
    async (name) => {
      const folder = join(dir, 'api', name.split('/')[1]);
      mkdirSync(folder, {recursive: true});
      // each in its own Node process (as a reader runs it), three at a time
      const queue = [...examples[name]];
      const failed: string[] = [];
      await Promise.all(Array.from({length: 3}, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const [fn, code] = next;
          const file = join(folder, `${fn}.mjs`);
          writeFileSync(file, code);
          const r = await new Promise<{status: number | null, output: string}>((resolve) => {
            const child = spawn(process.execPath, [file], {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000});
            let output = '';
            child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
            child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
            child.on('close', (status) => resolve({status, output}));
          });
          if (r.status !== 0) failed.push(`${fn} (${relative(root, file)}) failed:\n${r.output}`);
        }
      }));
      expect(failed).toEqual([]);
    }, 600000);  // every example of a package (lipschitz has over 50), each a Node process
});
