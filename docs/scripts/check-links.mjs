#!/usr/bin/env node
// Checks every internal link of a built site the way a plain static file server would serve
// it (no clean URLs, no rewrites: `/guides/concepts` is not `/guides/concepts.html`; a folder
// is its index.html): each href and src of every page must name a file of the site, and each
// #anchor an id on the page it leads to. Links to other hosts are not followed.
//
//   node docs/scripts/check-links.mjs [docs/dist]
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join, relative, resolve, sep} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The file a static server sends for a URL path of the site, or null (a 404). */
export function servedFile(root, urlPath) {
  const file = join(root, ...decodeURIComponent(urlPath).split('/'));
  if (!file.startsWith(root)) return null;
  if (existsSync(file) && statSync(file).isFile()) return file;
  const index = join(file, 'index.html');
  return urlPath.endsWith('/') || (existsSync(file) && statSync(file).isDirectory())
    ? (existsSync(index) ? index : null) : null;
}

const ids = new Map();
/** The ids of an HTML file (anchors a link may name). */
function idsOf(file) {
  if (!ids.has(file)) {
    const html = readFileSync(file, 'utf8');
    ids.set(file, new Set([...html.matchAll(/\s(?:id|name)="([^"]*)"/g)].map((m) => decodeEntities(m[1]))));
  }
  return ids.get(file);
}

const decodeEntities = (s) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** Every .html file under `dir`. */
function htmlFiles(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((d) => d.isDirectory()
    ? htmlFiles(join(dir, d.name)) : d.name.endsWith('.html') ? [join(dir, d.name)] : []);
}

/**
 * The broken internal links of the site built in `root`: `{page, link, problem}` for each
 * href or src that a static server would answer with 404, or whose #anchor is not an id there.
 */
export function brokenLinks(root) {
  root = resolve(root);
  const problems = [];
  let checked = 0;
  for (const file of htmlFiles(root)) {
    const page = '/' + relative(root, file).split(sep).join('/');
    // the page's markup, without its scripts' source text (the SPA's JSON and code are not links)
    const html = readFileSync(file, 'utf8').replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, (tag) => tag.replace(/>[\s\S]*<\/script>$/, '></script>'));
    for (const [, attr, raw] of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
      const link = decodeEntities(raw);
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) continue;  // another host, mailto:, data:
      const url = new URL(link, `http://site${page}`);
      const target = url.pathname === page ? file : servedFile(root, url.pathname);
      ++checked;
      if (target == null) {
        problems.push({page, link, problem: `${attr} leads to ${url.pathname}, which a static server answers with 404`});
      } else if (url.hash.length > 1 && target.endsWith('.html') && !idsOf(target).has(decodeURIComponent(url.hash.slice(1)))) {
        problems.push({page, link, problem: `no id "${decodeURIComponent(url.hash.slice(1))}" on ${relative(root, target)}`});
      }
    }
  }
  return {checked, problems};
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
  const {checked, problems} = brokenLinks(root);
  for (const {page, link, problem} of problems) console.error(`${page}: ${link}: ${problem}`);
  console.log(`check-links: ${checked} internal links, ${problems.length} broken`);
  process.exit(problems.length ? 1 : 0);
}
