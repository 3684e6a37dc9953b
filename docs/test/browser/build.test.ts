/**
 * The docs build's own checks, without a browser: the internal link checker finds broken
 * links and anchors, guide math is rendered to HTML at build time (no client-side TeX), and
 * the API reference build fails on undocumented or unexported symbols and broken links.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {checkLinks} from '../../scripts/links.mjs';
import {renderMarkdown} from '../../scripts/markdown.mjs';

describe('checkLinks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    mkdirSync(join(dir, 'guides'));
    writeFileSync(join(dir, 'index.html'), '<h1 id="top">Home</h1><a href="guides/a.html#sec">a</a>');
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  test('accepts existing files and anchors, and external links', () => {
    writeFileSync(join(dir, 'guides', 'a.html'),
      '<h2 id="sec">S</h2><a href="../index.html#top">home</a><a href="https://example.org/x">x</a>');
    expect(checkLinks(dir)).toEqual([]);
  });

  test('reports a missing file and a missing anchor', () => {
    writeFileSync(join(dir, 'guides', 'a.html'), '<h2 id="other">S</h2><img src="../missing.svg">');
    expect(checkLinks(dir)).toEqual([
      'guides/a.html: broken link ../missing.svg',
      'index.html: no id "sec" in guides/a.html (link guides/a.html#sec)',
    ]);
  });
});

describe('renderMarkdown', () => {
  test('renders inline and display math with KaTeX, not inside code', () => {
    const {html, headings, title} = renderMarkdown(
      '# T\n\n## Two words\n\nInline $a_k$ and `$x$`.\n\n$$\n\\sum_k |a_k|\n$$\n', 'test.md');
    expect(title).toBe('T');
    expect(headings.map((h) => h.id)).toEqual(['t', 'two-words']);
    expect(html).toContain('<span class="katex">');
    expect(html).toContain('<code>$x$</code>');
    expect(html).toContain('class="math-display"');
    expect(html).not.toContain('$$');
  });

  test('fails on invalid TeX, naming the file', () => {
    expect(() => renderMarkdown('bad $\\frac{1}$ here', 'guides/bad.md')).toThrow(/guides\/bad\.md/);
  });
});

describe('API reference validation (TypeDoc)', () => {
  // TypeDoc is ESM-only: run buildApi in a child Node process on a one-file package.
  const run = (source: string, hidden = '') => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-api-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({name: '@deepspline/fake', version: '0.1.0'}));
      writeFileSync(join(dir, 'src', 'index.ts'), source);
      writeFileSync(join(dir, 'src', 'hidden.ts'), hidden);
      const api = pathToFileURL(join(__dirname, '..', '..', 'scripts', 'api.mjs')).href;
      const code = `import {buildApi} from ${JSON.stringify(api)};
        await buildApi([{dir: 'fake', name: '@deepspline/fake', entry: ${JSON.stringify(join(dir, 'src', 'index.ts'))}}],
          ${JSON.stringify(join(dir, 'out'))});`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {encoding: 'utf8'});
      return {status: result.status, output: result.stdout + result.stderr};
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  };

  test('a documented package passes', () => {
    const {status, output} = run('/** Adds one. */\nexport function inc(x: number): number { return x + 1; }\n');
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  test('fails on an undocumented export, an unexported type, and a broken link', () => {
    const {status, output} = run([
      'import type {Hidden} from "./hidden.js";',
      '/** Makes a {@link Nowhere}. */',
      'export function make(): Hidden { return {a: 1}; }',
      'export const undocumented = 1;',
      '/** Options. */',
      'export interface Options {',
      '  /** Documented. */',
      '  a: number;',
      '  b: number;',
      '}',
    ].join('\n'), '/** Not exported from index.ts. */\nexport interface Hidden {\n  /** A. */\n  a: number;\n}\n');
    expect(status).not.toBe(0);
    expect(output).toMatch(/Hidden.*(not exported|not included)/);
    expect(output).toMatch(/Nowhere/);
    expect(output).toMatch(/undocumented.*does not have any documentation/);
    expect(output).toMatch(/Options\.b.*does not have any documentation/);
    expect(output).not.toMatch(/Options\.a/);
  });
});
