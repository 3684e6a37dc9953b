/**
 * The docs build's own pieces, without a browser: TypeDoc with docs/typedoc.config.mjs fails
 * on an undocumented export, an unexported type in a public signature and a broken link, and
 * our TypeDoc plugin lists a factory's fields with their defaults; the guides' `api:` links
 * resolve through api/names.json or fail; a guide's generated section must exist; the link
 * check finds what a plain static server would not serve.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import MarkdownIt from 'markdown-it';
import {apiLinks} from '../../.vitepress/api-links.mjs';
import {generatedSection} from '../../scripts/generated.mjs';
import {brokenLinks} from '../../scripts/check-links.mjs';

const ROOT = join(__dirname, '..', '..', '..');
const DOCS = join(ROOT, 'docs');

describe('TypeDoc (docs/typedoc.config.mjs) on small packages', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'docs-typedoc-')); });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  /**
   * Runs TypeDoc with the site's options on a package `@deepspline/fake` made of these files,
   * beside a documented second package (with one package TypeDoc makes no package index).
   */
  const run = (files: Record<string, string>) => {
    const write = (name: string, sources: Record<string, string>) => {
      const pkg = join(dir, name);
      mkdirSync(join(pkg, 'src'), {recursive: true});
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({name: `@deepspline/${name}`, version: '0.1.0',
        description: `The ${name} package of the docs tests`}));
      writeFileSync(join(pkg, 'tsconfig.json'), JSON.stringify({extends: join(ROOT, 'tsconfig.base.json'),
        compilerOptions: {rootDir: 'src', noEmit: true, composite: false, types: []}, include: ['src']}));
      for (const [file, text] of Object.entries(sources)) writeFileSync(join(pkg, 'src', file), text);
      return pkg;
    };
    const packages = [write('fake', files), write('other', {'index.ts': '/** One. */\nexport const one = 1;\n'})];
    // The site's options, on this package only (the exemptions name the real packages' symbols).
    writeFileSync(join(dir, 'typedoc.config.mjs'), [
      `import base from ${JSON.stringify(join(DOCS, 'typedoc.config.mjs'))};`,
      `export default {...base, entryPoints: ${JSON.stringify(packages)},`,
      `  packagesRequiringDocumentation: ['@deepspline/fake', '@deepspline/other'],`,
      `  intentionallyNotDocumented: [], out: ${JSON.stringify(join(dir, 'api'))}, docsRoot: ${JSON.stringify(dir)},`,
      `  plugin: base.plugin.map((p) => p.startsWith('.') ? ${JSON.stringify(DOCS)} + p.slice(1) : p)};`,
    ].join('\n'));
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'),
      '--options', join(dir, 'typedoc.config.mjs')], {cwd: DOCS, encoding: 'utf8'});
    return {status: result.status, output: result.stdout + result.stderr};
  };

  test('a documented package passes; a factory page lists its args fields with defaults', () => {
    const {status, output} = run({'index.ts': [
      '/** Arguments of {@link make}. */',
      'export interface MakeArgs {',
      '  /**',
      '   * Points per side.',
      '   * @defaultValue `3`',
      '   */',
      '  size?: number;',
      '  /** The name. */',
      '  name: string;',
      '  /**',
      '   * Steps, a bare default.',
      '   * @defaultValue 15',
      '   */',
      '  steps?: number;',
      '  /**',
      '   * When, a default in words.',
      '   * @defaultValue only at the end of each epoch',
      '   */',
      '  when?: number;',
      '}',
      '/** Makes one. */',
      'export function make(args: MakeArgs): number { return args.size ?? 3; }',
    ].join('\n')});
    expect(output).toBe('');
    expect(status).toBe(0);
    const page = readFileSync(join(dir, 'api', '@deepspline', 'fake', 'functions', 'make.md'), 'utf8');
    expect(page).toContain('Fields of `MakeArgs`:');
    expect(page).toContain('- `size?`: `number`, default `3`<br>Points per side.');
    expect(page).toContain('- `name`: `string`<br>The name.');
    // bare defaults (TypeDoc renders them as a ```ts block) read as inline code, with no stray "ts"
    expect(page).toContain('- `steps?`: `number`, default `15`<br>Steps, a bare default.');
    expect(page).toContain('- `when?`: `number`, default `only at the end of each epoch`<br>When, a default in words.');
    expect(page).not.toContain('```');
    expect(page.indexOf('`size?`')).toBeLessThan(page.indexOf('`name`'));
    expect(page).toMatch(/blob\/main\/.*fake\/src\/index\.ts#L22/);
    const index = readFileSync(join(dir, 'api', 'index.md'), 'utf8');
    expect(index).toContain('- [@deepspline/fake - v0.1.0](@deepspline/fake/index.md): The fake package of the docs tests');
    const names = JSON.parse(readFileSync(join(dir, 'api', 'names.json'), 'utf8'));
    expect(names).toMatchObject({'make': '/api/@deepspline/fake/functions/make.md',
      'MakeArgs.size': '/api/@deepspline/fake/interfaces/MakeArgs.md#size'});
  });

  test('fails on an undocumented export and an undocumented member', () => {
    const {status, output} = run({'index.ts': [
      'export const undocumented = 1;',
      '/** Options. */',
      'export interface Options {',
      '  /** Documented. */',
      '  a: number;',
      '  b: number;',
      '}',
    ].join('\n')});
    expect(status).not.toBe(0);
    expect(output).toMatch(/undocumented.*does not have any documentation/);
    expect(output).toMatch(/Options\.b.*does not have any documentation/);
    expect(output).not.toMatch(/Options\.a/);
  });

  test('fails on a type that a public signature uses but the package does not export', () => {
    const {status, output} = run({
      'index.ts': 'import type {Hidden} from "./hidden.js";\n/** Makes one. */\nexport function make(): Hidden { return {a: 1}; }\n',
      'hidden.ts': '/** Not exported from index.ts. */\nexport interface Hidden {\n  /** A. */\n  a: number;\n}\n',
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/Hidden.*referenced by make but not included in the documentation/);
  });

  test('fails on a broken {@link}', () => {
    const {status, output} = run({'index.ts': '/** Makes a {@link Nowhere}. */\nexport function make(): number { return 1; }\n'});
    expect(status).not.toBe(0);
    expect(output).toMatch(/Failed to resolve link to "Nowhere"/);
  });
});

describe('api: links of the guides', () => {
  const names = {'lipschitzBound': '/api/@deepspline/lipschitz/functions/lipschitzBound.md',
    'lipschitz:tv2': '/api/@deepspline/lipschitz/functions/tv2.md'};
  const md = new MarkdownIt();
  apiLinks(md, names);

  test('become links to the API pages', () => {
    expect(md.render('See [`lipschitzBound`](api:lipschitzBound) and [tv2](api:lipschitz:tv2).'))
      .toBe('<p>See <a href="/api/@deepspline/lipschitz/functions/lipschitzBound.md"><code>lipschitzBound</code></a> ' +
        'and <a href="/api/@deepspline/lipschitz/functions/tv2.md">tv2</a>.</p>\n');
  });

  test('fail on a name that no package exports, naming the page', () => {
    expect(() => md.render('[x](api:nowhere)', {relativePath: 'guides/a.md'}))
      .toThrow('guides/a.md: api:nowhere names no exported API symbol');
  });
});

describe('generated sections', () => {
  test('the package list names every package with its description', () => {
    const list = generatedSection('packages', join(DOCS, 'index.md'));
    const {description} = JSON.parse(readFileSync(join(ROOT, 'packages', 'core', 'package.json'), 'utf8'));
    expect(list).toContain(`- [\`@deepspline/core\`](/api/@deepspline/core/): ${description}`);
  });

  test('an unknown section fails, naming the page', () => {
    expect(() => generatedSection('nope', '/x/guides/a.md')).toThrow('/x/guides/a.md: unknown generated section nope');
  });
});

describe('the link check of the built site (docs/scripts/check-links.mjs)', () => {
  test('finds links a static server answers with 404 and anchors that are not on their page, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    try {
      const page = (path: string, body: string) => {
        mkdirSync(join(dir, path, '..'), {recursive: true});
        writeFileSync(join(dir, path), `<!doctype html><html><body>${body}</body></html>`);
      };
      page('index.html', '<h2 id="top">t</h2><a href="guides/a.html#part">ok</a> <a href="./guides/">ok, a folder</a> ' +
        '<a href="https://example.org/x">another host</a> <a href="#top">ok</a> <img src="/logo.svg"> ' +
        '<script>const s = "<a href=\\"/nowhere\\">";</script>');
      page('guides/index.html', '<a href="a">clean URL</a> <a href="../index.html#nope">missing anchor</a>');
      page('guides/a.html', '<h2 id="part">p</h2><a href="/missing.html">missing page</a> <a href="b.html">missing</a>');
      writeFileSync(join(dir, 'logo.svg'), '<svg/>');
      const {checked, problems} = brokenLinks(dir);
      expect(problems.map(({page: p, link}) => `${p} ${link}`).sort()).toEqual(['/guides/a.html /missing.html',
        '/guides/a.html b.html', '/guides/index.html ../index.html#nope', '/guides/index.html a']);
      expect(checked).toBe(8);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
