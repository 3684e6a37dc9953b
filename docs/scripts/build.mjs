#!/usr/bin/env node
// Builds the docs site into docs/dist (or --out DIR): the API reference (TypeDoc), the
// guides (Markdown + KaTeX, with generated benchmark, reproduction and MNIST sections), the live
// demo (esbuild), the site search index, then checks every internal link. Exits 1 on any
// TypeDoc warning, KaTeX error or broken link. A guide's `[text](api:Name)` to a symbol
// that no package exports yet is rendered as text, with a warning.
import {copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {buildApi} from './api.mjs';
import {buildDemo} from './demo.mjs';
import {benchMarkdown, mnistMarkdown, paperMarkdown} from './generated.mjs';
import {GUIDES, layout} from './layout.mjs';
import {checkLinks} from './links.mjs';
import {renderMarkdown} from './markdown.mjs';
import {DEFAULT_OUT, DOCS, ROOT, workspacePackages} from './paths.mjs';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const OUT = outIndex >= 0 ? resolve(argv[outIndex + 1]) : DEFAULT_OUT;

const timings = [];
async function step(name, fn) {
  const start = performance.now();
  const result = await fn();
  timings.push(`${name} ${((performance.now() - start) / 1000).toFixed(1)}s`);
  return result;
}

/**
 * Replaces `[text](api:Name)` by a link to Name's API page, relative to a guide page.
 * `api:Class.member` names a member (no two packages export the same name:
 * test/exports.test.ts).
 */
function resolveApiLinks(source, urls, root, unresolved) {
  return source.replace(/\[([^\]]+)\]\(api:([\w.$]+)\)/g, (m, text, name) => {
    const url = urls.get(name);
    if (!url) { unresolved.add(name); return text; }
    return `[${text}](${root}${url})`;
  });
}

/** Search entries of one guide: the page, then each `##`/`###` section. */
function guideEntries(title, url, source, headings) {
  const plain = (md) => md.replace(/```[\s\S]*?```/g, ' ').replace(/\$\$[\s\S]*?\$\$/g, ' ')
    .replace(/<[^>]+>/g, ' ').replace(/[#*_`>|[\]()]/g, ' ').replace(/\s+/g, ' ').trim();
  const sections = source.split(/^(?=#{2,3} )/m);
  const entries = [{title, url, kind: 'Guide', context: '', text: plain(sections[0]).slice(0, 400)}];
  for (const section of sections.slice(1)) {
    const heading = section.split('\n', 1)[0].replace(/^#+\s*/, '');
    const h = headings.find((x) => x.text === heading.replace(/`/g, '').replace(/\*/g, '') || x.text === heading);
    entries.push({title: heading.replace(/`/g, ''), url: h ? `${url}#${h.id}` : url, kind: 'Section',
      context: title, text: plain(section.slice(heading.length + 3)).slice(0, 400)});
  }
  return entries;
}

async function main() {
  const packages = workspacePackages();
  if (packages.length === 0) throw new Error('no packages/*/src/index.ts found');
  rmSync(OUT, {recursive: true, force: true});
  mkdirSync(OUT, {recursive: true});

  const api = await step('api', () => buildApi(packages, join(OUT, 'api')));

  await step('assets', () => {
    cpSync(join(DOCS, 'site'), join(OUT, 'assets'), {recursive: true});
    const katexDist = join(ROOT, 'node_modules', 'katex', 'dist');
    mkdirSync(join(OUT, 'assets', 'katex'), {recursive: true});
    copyFileSync(join(katexDist, 'katex.min.css'), join(OUT, 'assets', 'katex', 'katex.min.css'));
    cpSync(join(katexDist, 'fonts'), join(OUT, 'assets', 'katex', 'fonts'), {recursive: true});
  });

  const unresolved = new Set();
  const searchEntries = [];
  await step('guides', () => {
    const generated = {
      bench: () => benchMarkdown(),
      paper: () => paperMarkdown(join(OUT, 'guides')),
      mnist: () => mnistMarkdown(join(OUT, 'guides')),
      packages: () => packages.map((p) => {
        const module = api.modules.find((m) => m.name === p.name);
        return `- [\`${p.name}\`](${module.url}): ${p.description}`;
      }).join('\n'),
    };
    const pages = [['index', 'home', ''], ...GUIDES.map(([slug]) => [slug, slug, '../'])];
    mkdirSync(join(OUT, 'guides'), {recursive: true});
    for (const [slug, current, root] of pages) {
      const file = join(DOCS, 'guides', `${slug}.md`);
      let source = readFileSync(file, 'utf8');
      source = source.replace(/<!--\s*generated:(\w+)\s*-->/g, (m, name) => {
        if (!generated[name]) throw new Error(`${file}: unknown generated section ${name}`);
        return generated[name]().replace(/\]\((?!https?:|#|\.\.\/|api:)(api\/)/g, `](${root}$1`);
      });
      source = resolveApiLinks(source, api.urls, root, unresolved);
      const {html, headings, title} = renderMarkdown(source, `guides/${slug}.md`);
      const url = slug === 'index' ? 'index.html' : `guides/${slug}.html`;
      writeFileSync(join(OUT, url), layout({title, body: html, root, current, toc: slug === 'index' ? [] : headings}));
      searchEntries.push(...guideEntries(title, url, source, headings));
    }
  });

  const demo = await step('demo', async () => {
    const result = await buildDemo(join(OUT, 'demo'));
    const body = readFileSync(join(DOCS, 'demo', 'body.html'), 'utf8');
    writeFileSync(join(OUT, 'demo', 'index.html'), layout({title: 'Live demo', body, root: '../',
      current: 'demo', wide: true, scripts: ['demo.js']}));
    searchEntries.push({title: 'Live demo', url: 'demo/index.html', kind: 'Page', context: '',
      text: 'Train a small deep spline network in the browser: circle and s_shape data, ' +
        'learned activations, decision region, TV(2) lambda slider, Lipschitz bound.'});
    return result;
  });

  writeFileSync(join(OUT, 'search-index.json'), JSON.stringify([...searchEntries, ...api.entries]));

  const problems = await step('links', () => checkLinks(OUT));
  if (problems.length) {
    const shown = problems.slice(0, 40);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw new Error(`the site has ${problems.length} broken link(s):\n  ${shown.join('\n  ')}`);
  }
  for (const name of unresolved) {
    console.warn(`docs: warning: a guide refers to api:${name}, which no package exports yet ` +
      `(rendered as plain text)`);
  }
  console.log(`docs: built ${OUT} — packages: ${packages.map((p) => p.name).join(', ')}; ` +
    `${api.entries.length} API symbols; demo ${(demo.bytes / 1e6).toFixed(1)} MB; ` +
    `${timings.join(', ')}`);
}

main().catch((err) => {
  console.error(`docs build failed: ${err.message}`);
  process.exit(1);
});
