/**
 * The docs build's own checks, without a browser: the internal link checker finds broken
 * links and anchors, and guide math is rendered to HTML at build time (no client-side TeX).
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
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
    expect(headings.map((h: {id: string}) => h.id)).toEqual(['t', 'two-words']);
    expect(html).toContain('<span class="katex">');
    expect(html).toContain('<code>$x$</code>');
    expect(html).toContain('class="math-display"');
    expect(html).not.toContain('$$');
  });

  test('fails on invalid TeX, naming the file', () => {
    expect(() => renderMarkdown('bad $\\frac{1}$ here', 'guides/bad.md')).toThrow(/guides\/bad\.md/);
  });
});
