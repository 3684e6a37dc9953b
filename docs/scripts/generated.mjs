// Content generated at build time from files other engineers' scripts write: the benchmark
// table (bench/results.json) and the reproduction of the paper's 2-D experiment
// (examples/twod/reference/). Each returns Markdown; a clear note when the input is absent.
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {ROOT} from './paths.mjs';

const BENCH_FILE = join(ROOT, 'bench', 'results.json');
const REFERENCE_DIR = join(ROOT, 'examples', 'twod', 'reference');

const note = (text) => `<div class="note">\n\n${text}\n\n</div>`;

function formatValue(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : value.toPrecision(4);
  }
  if (value == null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const cell = (value) => formatValue(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown table of an array of flat objects (columns: the union of their keys). */
export function markdownTable(rows) {
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [`| ${columns.join(' | ')} |`, `| ${columns.map((c) =>
    rows.every((r) => r[c] == null || typeof r[c] === 'number') ? '--:' : '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${columns.map((c) => cell(row[c])).join(' | ')} |`);
  return lines.join('\n');
}

/** Walks a JSON value and renders every array of objects as a table, scalars as a list. */
function jsonToMarkdown(value, heading = '###', path = []) {
  const parts = [];
  const scalars = [];
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const flat = value.every((v) => Object.values(v).every((x) => x == null || typeof x !== 'object'));
      if (flat) return markdownTable(value);
      return value.map((v, i) => jsonToMarkdown(v, heading, [...path, String(i)])).join('\n\n');
    }
    return `\`${JSON.stringify(value)}\``;
  }
  for (const [key, v] of Object.entries(value ?? {})) {
    if (v != null && typeof v === 'object') {
      parts.push(`${heading} ${key}\n\n${jsonToMarkdown(v, heading + '#', [...path, key])}`);
    } else {
      scalars.push(`- **${key}**: ${cell(v)}`);
    }
  }
  return [scalars.join('\n'), ...parts].filter(Boolean).join('\n\n');
}

/** The benchmark section: every table in bench/results.json, or a "not yet measured" note. */
export function benchMarkdown() {
  if (!existsSync(BENCH_FILE)) {
    return note('**Not yet measured.** `bench/results.json` does not exist in this checkout: run ' +
      '`npm run bench` (it writes the file) and rebuild the site with `npm run docs` to see ' +
      'the table here.');
  }
  const results = JSON.parse(readFileSync(BENCH_FILE, 'utf8'));
  return `The numbers below are read from \`bench/results.json\` when the site is built ` +
    `(medians; ratios are to \`tf.relu\` in the same run on the same machine).\n\n` +
    jsonToMarkdown(results);
}

/**
 * The reproduction section: examples/twod/reference/results.md (its relative image links
 * rewritten) and every SVG there, copied to `<outGuides>/reference/`.
 */
export function paperMarkdown(outGuides) {
  if (!existsSync(REFERENCE_DIR)) {
    return note('**No reference run yet.** `examples/twod/reference/` (results.json, ' +
      'results.md and the SVG figures written by the 2-D example) is not in this checkout. ' +
      'Run the example as described above and rebuild the site to see the table and pictures here.');
  }
  const files = readdirSync(REFERENCE_DIR);
  const svgs = files.filter((f) => f.endsWith('.svg')).sort();
  mkdirSync(join(outGuides, 'reference'), {recursive: true});
  for (const f of files) {
    if (/\.(svg|png|json|md)$/.test(f)) copyFileSync(join(REFERENCE_DIR, f), join(outGuides, 'reference', f));
  }
  const parts = [];
  if (files.includes('results.md')) {
    const text = readFileSync(join(REFERENCE_DIR, 'results.md'), 'utf8')
      .replace(/^# /gm, '### ').replace(/^## /gm, '#### ')
      .replace(/(\]\()(?!https?:|#|\/)([^)\s]+)/g, (m, open, target) =>
        files.includes(target.replace(/^\.\//, '')) ? `${open}reference/${target.replace(/^\.\//, '')}` : m);
    parts.push(text);
  } else if (files.includes('results.json')) {
    parts.push(jsonToMarkdown(JSON.parse(readFileSync(join(REFERENCE_DIR, 'results.json'), 'utf8'))));
  }
  const referenced = parts.join('\n');
  const figures = svgs.filter((f) => !referenced.includes(`reference/${f}`));
  if (figures.length) {
    parts.push('<div class="figures">\n' + figures.map((f) => `<figure><img src="reference/${f}" ` +
      `alt="${f.replace(/\.svg$/, '').replace(/[_-]/g, ' ')}" loading="lazy"><figcaption>${f}</figcaption></figure>`)
      .join('\n') + '\n</div>');
  }
  if (files.includes('results.json')) {
    parts.push('The raw numbers: [results.json](reference/results.json).');
  }
  return parts.join('\n\n');
}
