// Checks every internal link of the built site: each href/src that is not external must
// name an existing file, and a `#fragment` into a page outside the API reference must name
// an id on that page (TypeDoc validates its own anchors).
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, sep} from 'node:path';

function htmlFiles(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((d) => {
    const path = join(dir, d.name);
    return d.isDirectory() ? htmlFiles(path) : d.name.endsWith('.html') ? [path] : [];
  });
}

const idCache = new Map();
function ids(file) {
  if (!idCache.has(file)) {
    const html = readFileSync(file, 'utf8');
    idCache.set(file, new Set([...html.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1])));
  }
  return idCache.get(file);
}

/** Returns a list of "page: problem" strings (empty when every link resolves). */
export function checkLinks(outDir) {
  const problems = [];
  for (const file of htmlFiles(outDir)) {
    const html = readFileSync(file, 'utf8');
    const page = relative(outDir, file);
    const inApi = page.startsWith(`api${sep}`);
    for (const m of html.matchAll(/\s(href|src)="([^"]*)"/g)) {
      const url = m[2].replace(/&amp;/g, '&');
      if (/^(https?:|mailto:|data:|javascript:)/.test(url)) continue;
      if (url === '' && m[1] === 'src') { problems.push(`${page}: empty src`); continue; }
      const [pathPart, fragment] = url.split('#');
      const cleanPath = decodeURIComponent(pathPart.split('?')[0]);
      let target = cleanPath === '' ? file : join(dirname(file), cleanPath);
      if (existsSync(target) && statSync(target).isDirectory()) target = join(target, 'index.html');
      if (!existsSync(target)) {
        problems.push(`${page}: broken link ${url}`);
        continue;
      }
      const targetInApi = relative(outDir, target).startsWith(`api${sep}`);
      if (fragment && target.endsWith('.html') && !(inApi || targetInApi) && !ids(target).has(fragment)) {
        problems.push(`${page}: no id "${fragment}" in ${relative(outDir, target)} (link ${url})`);
      }
    }
  }
  return problems;
}
