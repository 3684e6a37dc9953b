// Sections of the guides generated at build time from what other scripts write, so that
// the site always shows the committed numbers: the benchmark tables (bench/results.json,
// rendered by bench/report.mjs as the READMEs are; bench/webgl-results.json,
// bench/webgpu-results.json), the reproduction of the paper's 2-D experiment
// (examples/twod/reference/), the MNIST certified-robustness run (examples/mnist/reference/),
// and the package list. A guide asks for one with `<!-- generated:name -->` (replaced by
// the markdown-it rule in docs/.vitepress/config.mts). Each is Markdown, with a clear note when
// its input is absent; pictures are linked relative to the page, so VitePress bundles them.
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {SECTIONS as BENCH_SECTIONS} from '../../bench/report.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPOSITORY = 'https://github.com/tfjs-deepspline/tfjs-deepspline/blob/main/';

const BENCH_FILE = join(ROOT, 'bench', 'results.json');
const WEBGL_BENCH_FILE = join(ROOT, 'bench', 'webgl-results.json');
const WEBGPU_BENCH_FILE = join(ROOT, 'bench', 'webgpu-results.json');
const REFERENCE_DIR = join(ROOT, 'examples', 'twod', 'reference');
const MNIST_REFERENCE_DIR = join(ROOT, 'examples', 'mnist', 'reference');

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

/** `{a: {b: 1}, c: [2, 3]}` -> `{'a b': 1, c: '2×3'}`: nested objects become columns. */
function flatten(row, prefix = '') {
  const out = {};
  for (const [key, value] of Object.entries(row)) {
    const name = prefix ? `${prefix} ${key}` : key;
    if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) out[name] = value.join('×');
    else if (value != null && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, flatten(value, name));
    else out[name] = value;
  }
  return out;
}

/** A Markdown table of an array of objects (columns: the union of their flattened keys). */
export function markdownTable(objects) {
  const rows = objects.map((o) => flatten(o));
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [`| ${columns.join(' | ')} |`, `| ${columns.map((c) =>
    rows.every((r) => r[c] == null || typeof r[c] === 'number') ? '--:' : '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${columns.map((c) => cell(row[c])).join(' | ')} |`);
  return lines.join('\n');
}

/** Walks a JSON value: arrays of objects become tables, scalars a list, objects sections. */
function jsonToMarkdown(value, heading = '####') {
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      return markdownTable(value);
    }
    return `\`${JSON.stringify(value)}\``;
  }
  const scalars = [];
  const parts = [];
  for (const [key, v] of Object.entries(value ?? {})) {
    if (v != null && typeof v === 'object') parts.push(`${heading} ${key}\n\n${jsonToMarkdown(v, heading + '#')}`);
    else scalars.push(`- **${key}**: ${cell(v)}`);
  }
  return [scalars.join('\n'), ...parts].filter(Boolean).join('\n\n');
}

/**
 * The benchmark section: bench/results.json (`npm run bench`: wasm and cpu backends,
 * training throughput), bench/webgl-results.json (`npm run bench:webgl`) and
 * bench/webgpu-results.json (`npm run bench:webgpu`), each with a
 * "not yet measured" note when absent.
 */
function benchMarkdown() {
  const parts = ['### wasm and cpu backends (`npm run bench`)'];
  if (!existsSync(BENCH_FILE)) {
    parts.push(note('**Not yet measured.** `bench/results.json` does not exist in this ' +
      'checkout: run `npm run bench` (it writes the file) and rebuild the site with ' +
      '`npm run docs` to see the table here.'));
  } else {
    const results = JSON.parse(readFileSync(BENCH_FILE, 'utf8'));
    const {date, machine} = results;
    if (date) {
      parts.push(`Measured ${date}` + (machine ? ` on ${cell(machine.cpu ?? 'unknown')} ` +
        `(${machine.cores ?? '?'} cores), Node ${machine.node ?? '?'}, tfjs ${machine.tfjs ?? '?'}` : '') + '.');
    }
    parts.push(BENCH_SECTIONS['wasm-tables'](results));
    if (results.standardExport) {
      parts.push(`**Deploying without the plugin** (${results.standardExport.source}; predict, batch ` +
        `${results.standardExport.batch}, median ms)`, BENCH_SECTIONS['layers-export'](results));
    }
  }
  parts.push(...browserBench('webgl', WEBGL_BENCH_FILE, 'Renderer', (env) => env.renderer),
    ...browserBench('webgpu', WEBGPU_BENCH_FILE, 'Adapter',
      (env) => env.adapter && `${env.adapter.vendor} ${env.adapter.architecture}`));
  return parts.join('\n\n');
}

/**
 * The section of a browser benchmark (`npm run bench:<backend>`, written to `file`), with
 * its device as `label: device(environment)`.
 */
function browserBench(backend, file, label, device) {
  const parts = [`### ${backend} backend (\`npm run bench:${backend}\`)`];
  if (!existsSync(file)) {
    parts.push(note(`**Not yet measured.** \`bench/${backend}-results.json\` does not exist in ` +
      `this checkout: run \`npm run bench:${backend}\` and rebuild the site.`));
    return parts;
  }
  const {results, note: text, environment, date} = JSON.parse(readFileSync(file, 'utf8'));
  const intro = [date ? `Measured ${date}.` : '', text ?? ''].filter(Boolean).join(' ');
  if (intro) parts.push(intro);
  const name = environment && device(environment);
  if (name) parts.push(`${label}: ${cell(name)}.`);
  if (Array.isArray(results)) parts.push(markdownTable(results));
  return parts;
}

/** A URL of `file` (in the repository) relative to the page at `page`. */
const from = (page, file) => {
  const url = relative(dirname(page), file).split('\\').join('/');
  return url.startsWith('.') ? url : `./${url}`;
};

/** Where a raw data file of the repository is shown: on GitHub (the site carries pictures only). */
const source = (file) => REPOSITORY + relative(ROOT, file).split('\\').join('/');

/** `circle_spline_lip1_decision.svg` -> `circle · spline_lip1`. */
function caption(file) {
  if (file === 'certified.svg') return 'certified accuracy against the radius r, mean over the seeds';
  const m = /^(circle|s_shape)_(.*?)(?:_(decision|activations))?\.svg$/.exec(file);
  return m ? `${m[1]} · ${m[2]}` : file.replace(/\.svg$/, '');
}

function figures(page, dir, files, cls = 'figures') {
  return `<div class="${cls}">\n` + files.map((f) => `<figure><img src="${from(page, join(dir, f))}" ` +
    `alt="${caption(f)}" loading="lazy"><figcaption>${caption(f)}</figcaption></figure>`).join('\n') +
    '\n</div>';
}

/** A Markdown report of the example, its headings moved below the guide's `##` level. */
function demoted(file) {
  return readFileSync(file, 'utf8').replace(/^(#{1,4}) /gm, (m, hashes) => `${hashes}## `);
}

/**
 * The reproduction section, from the example's committed reference run
 * (examples/twod/reference/, or $DOCS_TWOD_REFERENCE): results.md (the table over seeds), the
 * certified-accuracy plot, sweep.md when present, and the SVG pictures.
 */
function paperMarkdown(page) {
  const dir = process.env.DOCS_TWOD_REFERENCE || REFERENCE_DIR;
  if (!existsSync(dir)) {
    return note('**No reference run yet.** `examples/twod/reference/` (results.json, ' +
      'results.md and the SVG pictures written by the 2-D example) is not in this checkout. ' +
      'Run the example as shown above with `--out examples/twod/reference` and rebuild the ' +
      'site to see the table and pictures here.');
  }
  const files = readdirSync(dir).sort();
  const parts = [];
  if (files.includes('results.md')) parts.push(demoted(join(dir, 'results.md')));
  else if (files.includes('results.json')) {
    parts.push(jsonToMarkdown(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))));
  }
  const svgs = files.filter((f) => f.endsWith('.svg'));
  const certified = svgs.filter((f) => f === 'certified.svg');
  const decisions = svgs.filter((f) => f.endsWith('_decision.svg'));
  const activations = svgs.filter((f) => f.endsWith('_activations.svg'));
  const others = svgs.filter((f) => ![...certified, ...decisions, ...activations].includes(f));
  if (certified.length) parts.push('### Certified accuracy of the 1-Lipschitz networks', figures(page, dir, certified, 'figures wide'));
  if (decisions.length) parts.push('### Decision regions (first seed)', figures(page, dir, decisions));
  if (activations.length) parts.push('### Learned activations (first seed)', figures(page, dir, activations, 'figures wide'));
  if (files.includes('sweep.md')) parts.push(demoted(join(dir, 'sweep.md')));
  if (others.length) parts.push(figures(page, dir, others, 'figures wide'));
  const raw = ['results.json', 'sweep.json'].filter((f) => files.includes(f));
  if (raw.length) parts.push(`The raw numbers: ${raw.map((f) => `[${f}](${source(join(dir, f))})`).join(', ')}.`);
  return parts.join('\n\n');
}

/**
 * The MNIST section, from the example's committed reference run (examples/mnist/reference/):
 * the results table of results.md (its recipe list is in the guide), the certified-accuracy
 * plot and the learned activations.
 */
function mnistMarkdown(page) {
  const dir = MNIST_REFERENCE_DIR;
  if (!existsSync(join(dir, 'results.md'))) {
    return note('**No reference run yet.** `examples/mnist/reference/results.md` is not in this checkout: ' +
      'run `node examples/mnist/index.mjs --out examples/mnist/reference` and rebuild the site.');
  }
  const parts = [];
  const table = readFileSync(join(dir, 'results.md'), 'utf8').split('\n\n').filter((b) => b.startsWith('|'));
  parts.push(...table);
  for (const [file, caption] of [['robust_accuracy.svg', 'Certified (lines) and PGD (circles) accuracy (l2) against the radius'],
    ['activations.svg', 'Learned activations of the spline nets']]) {
    if (!existsSync(join(dir, file))) continue;
    parts.push(`<div class="figures wide">\n<figure><img src="${from(page, join(dir, file))}" alt="${caption}" loading="lazy">` +
      `<figcaption>${caption}</figcaption></figure>\n</div>`);
  }
  if (existsSync(join(dir, 'results.json'))) {
    parts.push(`The raw numbers: [results.json](${source(join(dir, 'results.json'))}).`);
  }
  return parts.join('\n\n');
}

/**
 * The sparsity figure of the Concepts guide: accuracy and exact active knots against lambda for
 * both TV(2) solvers, from the 2-D example's committed sweep (examples/twod/reference/sweep.svg).
 */
function sweepMarkdown(page) {
  const dir = process.env.DOCS_TWOD_REFERENCE || REFERENCE_DIR;
  const file = join(dir, 'sweep.svg');
  if (!existsSync(file)) {
    return note('**No sweep yet.** `examples/twod/reference/sweep.svg` is not in this checkout: run ' +
      '`node examples/twod/index.mjs --sweep --out examples/twod/reference` and rebuild the site.');
  }
  const caption = 'Test accuracy and exact active knots (a_k != 0, of 152) against lambda, both solvers, ' +
    'mean over 3 seeds (the 2-D benchmark, examples/twod)';
  return `<div class="figures wide">\n<figure><img src="${from(page, file)}" alt="${caption}" loading="lazy">` +
    `<figcaption>${caption}</figcaption></figure>\n</div>`;
}

/** The published packages of packages/ (name and one-line description), linked to their API pages. */
function packagesMarkdown() {
  return readdirSync(join(ROOT, 'packages'), {withFileTypes: true}).filter((d) => d.isDirectory())
    .map((d) => JSON.parse(readFileSync(join(ROOT, 'packages', d.name, 'package.json'), 'utf8')))
    .filter((p) => !p.private)  // packages/testing: the tests' kit, not published
    .map((p) => `- [\`${p.name}\`](/api/${p.name}/): ${p.description}`).join('\n');
}

/**
 * The "Coming from deel-lip" table of packages/lipschitz/README.md, written once there (npm and
 * GitHub readers see it in the README, the site in the guide).
 */
function deelLipMarkdown() {
  const readme = readFileSync(join(ROOT, 'packages', 'lipschitz', 'README.md'), 'utf8');
  const section = readme.split('\n## Coming from deel-lip\n')[1]?.split('\n## ')[0] ?? '';
  const table = section.split('\n').filter((line) => line.startsWith('|')).join('\n');
  if (!table) throw new Error('packages/lipschitz/README.md has no table under "## Coming from deel-lip"');
  return table;
}

const SECTIONS = {bench: benchMarkdown, paper: paperMarkdown, mnist: mnistMarkdown, packages: packagesMarkdown,
  sweep: sweepMarkdown, deel_lip: deelLipMarkdown};

/**
 * The Markdown of the generated section `name` for the page at the absolute path `page`.
 * @param {string} name
 * @param {string} page
 */
export function generatedSection(name, page) {
  const section = SECTIONS[name];
  if (!section) throw new Error(`${page}: unknown generated section ${name} (known: ${Object.keys(SECTIONS).join(', ')})`);
  return section(page);
}
