// Renders the benchmark results (bench/results.json from `npm run bench`,
// bench/webgl-results.json and bench/webgpu-results.json from `npm run bench:webgl` /
// `npm run bench:webgpu`) into the Markdown the READMEs show.
// Every speed figure of a README lives between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`
// and is generated here; test/bench-report.test.ts fails when a README disagrees.
//
//   node bench/report.mjs            print every section
//   node bench/report.mjs --write    rewrite the generated sections of the READMEs
//   node bench/report.mjs --check    exit 1 when a README's section differs
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The READMEs with generated sections. */
export const READMES = ['README.md', 'packages/wasm/README.md', 'packages/webgl/README.md',
  'packages/webgpu/README.md', 'packages/layers/README.md'];

/** Fixed decimals below 100, none from 100 on (the tables' style). */
export const fmt = (v, d = 2) => (v >= 100 ? v.toFixed(0) : v.toFixed(d));
/** Two decimals below 10, one from 10 on (the webgl table's style). */
const fmt1 = (v) => v.toFixed(v < 10 ? 2 : 1);
/** One decimal, or none from 10 on: prose figures. */
const prose = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));

/**
 * Structured op rows from timings keyed `relu fwd`, `kernel K=21 fwd+bwd`, `shared K=21 fwd`...
 * (bench/run.mjs's case names): one row per op, implementation, K and input, with the
 * median and fastest-round milliseconds and the same-run ratios.
 */
export function opRows(backend, medianMs, bestMs, Ks) {
  const row = (op, implementation, K, input, key) => {
    const ms = {fwd: medianMs[`${key} fwd`], fwdBwd: medianMs[`${key} fwd+bwd`] ?? null};
    const best = {fwd: bestMs[`${key} fwd`], fwdBwd: bestMs[`${key} fwd+bwd`] ?? null};
    const relu = {fwd: medianMs['relu fwd'], fwdBwd: medianMs['relu fwd+bwd']};
    const ratio = (a, b) => (a == null || b == null ? null : a / b);
    const fb = (pass) => ratio(medianMs[`fallback K=${K} ${pass}`], medianMs[`${key} ${pass}`]);
    return {backend, op, implementation, K, input, ms, bestMs: best,
      overRelu: {fwd: ratio(ms.fwd, relu.fwd), fwdBwd: ratio(ms.fwdBwd, relu.fwdBwd)},
      fallbackOverKernel: op === 'spline' && implementation !== 'fallback' ?
        {fwd: fb('fwd'), fwdBwd: input === 'uniform' ? fb('fwd+bwd') : null} : null};
  };
  const rows = [row('relu', null, null, 'uniform', 'relu'), row('prelu', null, null, 'uniform', 'prelu')];
  for (const impl of ['kernel', 'scalar', 'fallback']) {
    for (const K of Ks) if (medianMs[`${impl} K=${K} fwd`] !== undefined) rows.push(row('spline', impl, K, 'uniform', `${impl} K=${K}`));
  }
  for (const input of ['shared', 'zeros']) {
    for (const K of Ks) if (medianMs[`${input} K=${K} fwd`] !== undefined) rows.push(row('spline', 'kernel', K, input, `${input} K=${K}`));
  }
  return rows;
}

const splines = (results, backend, implementation, input = 'uniform') => results.ops.filter((r) =>
  r.backend === backend && r.op === 'spline' && r.implementation === implementation && r.input === input);
const opOf = (results, backend, op) => results.ops.find((r) => r.backend === backend && r.op === op);
const range = (values, f) => [Math.min(...values), Math.max(...values)].map(f);

function opTable(results, backend) {
  const {rows, channels} = results.config;
  const lines = [`**${backend} backend, ${rows}x${channels} float32 (median ms; ratio to relu's)**`, '',
    '| op | K | fwd ms | fwd / relu | fwd+bwd ms | fwd+bwd / relu\'s | fallback / kernel (fwd, fwd+bwd) |',
    '|---|---|---|---|---|---|---|'];
  for (const op of ['relu', 'prelu']) {
    const r = opOf(results, backend, op);
    lines.push(`| tf.${op} | - | ${fmt(r.ms.fwd)} | ${fmt(r.overRelu.fwd)}x | ${fmt(r.ms.fwdBwd)} | ${fmt(r.overRelu.fwdBwd)}x | |`);
  }
  const names = {kernel: backend === 'wasm' ? 'wasm kernel (SIMD)' : 'JS kernel',
    scalar: 'wasm kernel (scalar binary)', fallback: 'fallback'};
  for (const impl of ['kernel', 'scalar', 'fallback']) {
    for (const r of splines(results, backend, impl)) {
      const speedup = r.fallbackOverKernel ?
        `${fmt(r.fallbackOverKernel.fwd, 1)}x, ${fmt(r.fallbackOverKernel.fwdBwd, 1)}x` : '';
      lines.push(`| spline ${names[impl]} | ${r.K} | ${fmt(r.ms.fwd)} | ${fmt(r.overRelu.fwd)}x | ` +
        `${fmt(r.ms.fwdBwd)} | ${fmt(r.overRelu.fwdBwd)}x | ${speedup} |`);
    }
  }
  return lines.join('\n');
}

function otherInputsTable(results) {
  const uniform = (K) => splines(results, 'wasm', 'kernel').find((r) => r.K === K);
  const what = {shared: 'one spline shared by all 256 channels', zeros: 'per-channel, every other x an exact 0 (a knot)'};
  const rows = ['shared', 'zeros'].flatMap((input) => splines(results, 'wasm', 'kernel', input)).map((r) =>
    `| ${what[r.input]} | ${r.K} | ${fmt(r.ms.fwd)} | ${fmt(r.overRelu.fwd)}x | ${fmt(uniform(r.K).ms.fwd)} | ` +
    `${fmt(uniform(r.K).overRelu.fwd)}x |`);
  return ['**wasm kernel (SIMD) forward on other inputs, same run (informative; per-channel, uniform x for comparison)**',
    '', '| input | K | fwd ms | fwd / relu | per-channel, uniform x: ms | fwd / relu |', '|---|---|---|---|---|---|',
    ...rows].join('\n');
}

function trainingTable(results) {
  const name = (r) => (r.implementation ? `${r.activation} (${r.implementation === 'kernel' ? 'wasm kernel' : r.implementation})` : r.activation);
  return ['**Training, 3-layer 256-unit MLP (256-256-256-256-10), batch 256, Adam, wasm backend**', '',
    '| activation | samples/s | ratio to relu |', '|---|---|---|',
    ...results.training.map((r) => `| ${name(r)} | ${fmt(r.samplesPerSecond, 0)} | ${fmt(r.overRelu)}x |`)].join('\n');
}

function targetsTable(results) {
  return ['**Targets (same-run ratios of medians)**', '', '| target | value | met |', '|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${fmt(t.value)} | ${t.met ? 'yes' : 'NO'} |`),
    '', '**Same ratios from the fastest round of each case (informative)**', '', '| ratio | value |', '|---|---|',
    ...results.bestRatios.map((r) => `| ${r.name} | ${fmt(r.value)} |`)].join('\n');
}

/** Where results.json was measured: `Intel(R) Xeon(R) Processor, 2 cores, Node v20.20.2`. */
const machineOf = (results) => `${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`;
/** The closing line of a table measured by `npm run bench`. */
const measuredOn = (results) => `Measured on ${machineOf(results)} (\`npm run bench\`, ${results.date.slice(0, 10)}).`;
/** The same for the browser benches: SwiftShader's CPU (`environment.machine`; older runs lack it). */
const browserMeasuredOn = (bench) => `Measured ${bench.date.slice(0, 10)} on SwiftShader (a CPU renderer)` +
  (bench.environment.machine ? ` on ${bench.environment.machine}.` : '; the CPU was not recorded by that run.');

const NET_NAMES = {relu: 'ReLU MLP', spline: 'spline MLP (size 21)', relu_lip1: '1-Lipschitz ReLU',
  groupsort_lip1: '1-Lipschitz GroupSort(2)', spline_lip1: '1-Lipschitz spline (slopes in [-1, 1])'};

/** The MLP training table (bench/training.mjs rows): samples/s and the ratio to the ReLU MLP. */
function mlpTrainingTable(results) {
  const t = results.mlpTraining;
  const row = (backend, matMul, net, width) => t.rows.find((r) => r.backend === backend && r.matMul === matMul &&
    r.net === net && r.width === width);
  const torchRow = (net, width) => t.torch.available ? t.torch.rows.find((r) => r.net === net && r.width === width) : null;
  const cell = (r) => (r == null ? '-' : `${fmt(r.samplesPerSecond, 0)} (${fmt(r.overRelu)}x)`);
  const lines = [`**Training 784-W-W-10 MLPs, batch ${t.batch}, Adam: samples/s (ratio to the same run's ReLU MLP ` +
    'of that width and backend)**', '',
    '| net | W | wasm (+ `registerTransposingMatMul`) | cpu | PyTorch, 1 thread |', '|---|---|---|---|---|'];
  for (const width of [...new Set(t.rows.map((r) => r.width))]) {
    for (const net of Object.keys(NET_NAMES)) {
      lines.push(`| ${NET_NAMES[net]} | ${width} | ${cell(row('wasm', 'transposing', net, width))} | ` +
        `${cell(row('cpu', 'tfjs', net, width))} | ${cell(torchRow(net, width))} |`);
    }
  }
  lines.push('', ...matMulSpeedups(results).map((m) => `- ${NET_NAMES[m.net]}, W = ${m.width}, wasm with tfjs's own ` +
    `matMul: ${fmt(m.tfjs, 0)} samples/s; with \`registerTransposingMatMul()\`: ${fmt(m.ours, 0)} (${fmt(m.ratio, 1)}x).`));
  lines.push('', t.torch.available ?
    `PyTorch ${t.torch.torch} with ${t.torch.blas}, ${t.torch.threads} thread, same run (bench/torch_training.py: plain ` +
    'PyTorch equivalents: a per-channel linear spline, Björck layers with deel-torchlip\'s defaults).' :
    `PyTorch rows skipped: ${t.torch.reason}.`, '',
    // a section re-run alone (`--training-only`) carries its own date and machine
    measuredOn(t.date != null ? {date: t.date, machine: t.machine} : results));
  return lines.join('\n');
}

/** The wasm MLP training speed-ups of registerTransposingMatMul over tfjs's own kernel. */
function matMulSpeedups(results) {
  const rows = results.mlpTraining.rows.filter((r) => r.backend === 'wasm' && r.matMul === 'tfjs');
  return rows.map((r) => {
    const ours = results.mlpTraining.rows.find((o) => o.backend === 'wasm' && o.matMul === 'transposing' &&
      o.net === r.net && o.width === r.width);
    return {net: r.net, width: r.width, tfjs: r.samplesPerSecond, ours: ours.samplesPerSecond,
      ratio: ours.samplesPerSecond / r.samplesPerSecond};
  });
}

/** The standard-export inference table (bench/run.mjs `--export-only` rows). */
function exportTable(results) {
  const e = results.standardExport;
  const lines = ['| model | layers | parameters | wasm ms | wasm / spline | cpu ms | cpu / spline |',
    '|---|---|---|---|---|---|---|'];
  for (const r of e.rows) {
    lines.push(`| ${r.model} | ${r.layers} | ${r.parameters} | ${fmt(r.ms.wasm)} | ${fmt(r.overSpline.wasm)}x | ` +
      `${fmt(r.ms.cpu)} | ${fmt(r.overSpline.cpu)}x |`);
  }
  return lines.join('\n');
}

function webglTable(webgl) {
  const pass = (p) => (p === 'forward+backward' ? 'forward + backward' : p);
  return ['| `x` | pass | kernel ms | fallback ms | `tf.relu` ms | fallback / kernel | kernel / relu |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...webgl.results.map((r) => `| [${r.shape.join(', ')}] | ${pass(r.pass)} | ${fmt1(r.medianMs.kernel)} | ` +
      `${fmt1(r.medianMs.fallback)} | ${fmt1(r.medianMs.relu)} | ${fmt1(r.ratios.fallbackOverKernel)}x | ` +
      `${fmt1(r.ratios.kernelOverRelu)}x |`)].join('\n');
}

function webgpuTable(webgpu) {
  const pass = (p) => (p === 'forward+backward' ? 'forward + backward' : p);
  return ['| `x` | K | pass | kernel ms | fallback ms | `tf.relu` ms | fallback / kernel | kernel / relu |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...webgpu.results.map((r) => `| [${r.shape.join(', ')}]${r.shared ? ' shared' : ''} | ${r.K} | ${pass(r.pass)} | ` +
      `${fmt1(r.medianMs.kernel)} | ${fmt1(r.medianMs.fallback)} | ${fmt1(r.medianMs.relu)} | ` +
      `${fmt1(r.ratios.fallbackOverKernel)}x | ${fmt1(r.ratios.kernelOverRelu)}x |`)].join('\n');
}

/** The range of a browser benchmark's ratio over its rows (of one pass, or all). */
function browserRange(bench, ratio, pass, f = prose) {
  return range(bench.results.filter((r) => pass == null || r.pass === pass).map((r) => r.ratios[ratio]), f);
}

/** Per-K figures of the prose: the forward and fwd+bwd ratios to relu, fallback and scalar speed-ups. */
function figures(results) {
  const kernel = splines(results, 'wasm', 'kernel');
  const at = (rows, K) => rows.find((r) => r.K === K);
  const Ks = kernel.map((r) => r.K);
  const [K0, K1] = [Ks[0], Ks[Ks.length - 1]];
  const scalar = splines(results, 'wasm', 'scalar');
  const simd = Ks.map((K) => at(scalar, K).ms.fwd / at(kernel, K).ms.fwd);
  const cpu = splines(results, 'cpu', 'kernel');
  const training = (impl) => results.training.find((r) => r.implementation === impl);
  return {
    K0, K1,
    fwd: [at(kernel, K0).overRelu.fwd, at(kernel, K1).overRelu.fwd],
    fwdBwd: [at(kernel, K0).overRelu.fwdBwd, at(kernel, K1).overRelu.fwdBwd],
    fwdRange: range(kernel.map((r) => r.overRelu.fwd), (v) => v.toFixed(1)),
    fwdBwdRange: range(kernel.map((r) => r.overRelu.fwdBwd), (v) => v.toFixed(1)),
    fallbackFwd: range(kernel.map((r) => r.fallbackOverKernel.fwd), prose),
    fallbackFwdBwd: range(kernel.map((r) => r.fallbackOverKernel.fwdBwd), prose),
    simd: {low: Math.min(...simd), lowK: Ks[simd.indexOf(Math.min(...simd))],
      high: Math.max(...simd), highK: Ks[simd.indexOf(Math.max(...simd))]},
    cpuFallback: range(cpu.flatMap((r) => [r.fallbackOverKernel.fwd, r.fallbackOverKernel.fwdBwd]), prose),
    cpuOverRelu: range(cpu.flatMap((r) => [r.overRelu.fwd, r.overRelu.fwdBwd]), (v) => v.toFixed(2)),
    trainKernel: training('kernel').overRelu,
    reluNs: opOf(results, 'wasm', 'relu').ms.fwd * 1e6 / (results.config.rows * results.config.channels),
    kernelNs: at(kernel, K0).ms.fwd * 1e6 / (results.config.rows * results.config.channels),
  };
}

/** Every generated section, by marker name: `(results, webgl, webgpu) => Markdown`. */
export const SECTIONS = {
  'summary': (results, webgl, webgpu) => {
    const f = figures(results);
    const webglFb = browserRange(webgl, 'fallbackOverKernel');
    const webgpuFb = browserRange(webgpu, 'fallbackOverKernel');
    return `On \`wasm\` (1M elements, \`npm run bench\`, \`bench/results.json\`, on ${machineOf(results)}) the SIMD kernel is ` +
      `${f.fallbackFwd[0]}-${f.fallbackFwd[1]}x faster than the composite fallback on the forward pass ` +
      `(${f.fallbackFwdBwd[0]}-${f.fallbackFwdBwd[1]}x forward+backward; bit-identical to the cpu kernel), ` +
      `forward+backward costs ${f.fwdBwdRange[0]}-${f.fwdBwdRange[1]}x a \`tf.relu\`'s and the forward ` +
      `${f.fwdRange[0]}-${f.fwdRange[1]}x (K = ${f.K0}..${f.K1}), and a 3-layer 256-unit spline MLP ` +
      `trains at ${fmt(f.trainKernel)}x the samples/s of the same MLP with ReLU; on \`cpu\` the fused ` +
      `JavaScript kernel is ${f.cpuFallback[0]}-${f.cpuFallback[1]}x faster than the fallback and costs ` +
      `${f.cpuOverRelu[0]}-${f.cpuOverRelu[1]}x \`tf.relu\`'s time. On \`webgl\` the kernel is ` +
      `${webglFb[0]}-${webglFb[1]}x faster than the fallback (\`npm run bench:webgl\`, on SwiftShader), on ` +
      `\`webgpu\` ${webgpuFb[0]}-${webgpuFb[1]}x (\`npm run bench:webgpu\`, on SwiftShader's WebGPU adapter).`;
  },
  'wasm-bullet': (results) => {
    const f = figures(results);
    return `**${f.fwdRange[0]} to ${f.fwdRange[1]} \`tf.relu\`s per forward pass** on 1M elements ` +
      `(${f.fwdBwdRange[0]} to ${f.fwdBwdRange[1]} relus for forward+backward), ${f.fallbackFwd[0]} to ` +
      `${f.fallbackFwd[1]} times faster than the fallback (on ${machineOf(results)}); see [Benchmark](#benchmark).`;
  },
  'wasm-simd': (results) => {
    const {simd} = figures(results);
    return `In the benchmark below the SIMD binary is ${prose(simd.low)} (K = ${simd.lowK}) to ` +
      `${prose(simd.high)} (K = ${simd.highK}) times faster than the scalar one on the forward pass.`;
  },
  'wasm-tables': (results) => [opTable(results, 'wasm'), otherInputsTable(results), opTable(results, 'cpu'),
    trainingTable(results), targetsTable(results), measuredOn(results)].join('\n\n'),
  'wasm-matmul': (results) => {
    const s = matMulSpeedups(results);
    const [lo, hi] = range(s.map((m) => m.ratio), (v) => v.toFixed(1));
    return `Measured (\`npm run bench\`, 784-W-W-10 MLPs, W = ${[...new Set(s.map((m) => m.width))].join(' and ')}, ` +
      `batch 256, Adam, ReLU and spline): ${lo}-${hi}x the training samples/s of tfjs's own kernel, on ` +
      `${machineOf(results)}.`;
  },
  'training-table': (results) => mlpTrainingTable(results),
  'wasm-standing': (results) => {
    const f = figures(results);
    return [`- The kernel is ${f.fallbackFwd[0]} to ${f.fallbackFwd[1]} times faster than the composite ` +
      `fallback on the forward pass (${f.fallbackFwdBwd[0]} to ${f.fallbackFwdBwd[1]} times on forward+backward), ` +
      `${prose(f.simd.low)} to ${prose(f.simd.high)} times faster than the scalar binary, and the MLP trains at ` +
      `${fmt(f.trainKernel)}x relu's samples/s.`,
    `- Forward+backward costs ${fmt(f.fwdBwd[0], 1)}x (K = ${f.K0}) to ${fmt(f.fwdBwd[1])}x (K = ${f.K1}) relu's ` +
      `(target: 3x).`,
    `- The forward pass costs ${fmt(f.fwd[0], 1)}x (K = ${f.K0}) to ${fmt(f.fwd[1], 1)}x (K = ${f.K1}) a ` +
      `\`tf.relu\` (target: 2x): ${f.reluNs.toFixed(1)} ns per element for \`tf.relu\`, ` +
      `${f.kernelNs.toFixed(1)} ns for the kernel at K = ${f.K0}.`].join('\n');
  },
  'webgl-table': (results, webgl) => `${webglTable(webgl)}\n\n${browserMeasuredOn(webgl)}`,
  'webgpu-table': (results, webgl, webgpu) => `${webgpuTable(webgpu)}\n\n${browserMeasuredOn(webgpu)}`,
  'webgpu-fwdbwd': (results, webgl, webgpu) => {
    const [lo, hi] = browserRange(webgpu, 'kernelOverRelu', 'forward+backward', (v) => v.toFixed(1));
    return `${lo}-${hi}x`;
  },
  'layers-export': (results) => `${exportTable(results)}\n\n${measuredOn(results)}`,
  'layers-export-ratio': (results) => {
    const span = (model) => {
      const r = results.standardExport.rows.find((row) => row.model === model);
      const [lo, hi] = [r.overSpline.wasm, r.overSpline.cpu].sort((a, b) => a - b);
      return `${prose(lo)}-${prose(hi)}x`;
    };
    return `${span('export (hats)')} with hats, ${span('export (ramps)')} with ramps, on ${machineOf(results)}`;
  },
};

/** Loads the three results files from the repository: `[results, webgl, webgpu]`. */
export function loadResults(root = ROOT) {
  return ['results.json', 'webgl-results.json', 'webgpu-results.json']
    .map((f) => JSON.parse(readFileSync(join(root, 'bench', f), 'utf8')));
}

const MARKER = /<!-- bench:([a-z-]+) -->([\s\S]*?)<!-- \/bench:\1 -->/g;

/**
 * `text` with every generated section replaced by its current rendering. A block section
 * (its markers on lines of their own) keeps a blank line on each side; an inline one does not.
 */
export function renderReadme(text, results, webgl, webgpu) {
  return text.replace(MARKER, (all, name, body) => {
    const section = SECTIONS[name];
    if (section == null) throw new Error(`unknown generated section bench:${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
    const out = section(results, webgl, webgpu);
    return body.startsWith('\n') ? `<!-- bench:${name} -->\n\n${out}\n\n<!-- /bench:${name} -->` :
      `<!-- bench:${name} -->${out}<!-- /bench:${name} -->`;
  });
}

/** `text` without its generated sections: where no speed figure may appear. */
export function outsideSections(text) {
  return text.replace(MARKER, '');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({options: {write: {type: 'boolean'}, check: {type: 'boolean'}}});
  const [results, webgl, webgpu] = loadResults();
  if (!values.write && !values.check) {
    for (const [name, section] of Object.entries(SECTIONS)) console.log(`<!-- bench:${name} -->\n${section(results, webgl, webgpu)}\n`);
  }
  let stale = 0;
  for (const file of READMES) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const out = renderReadme(text, results, webgl, webgpu);
    if (out === text) continue;
    if (values.write) writeFileSync(join(ROOT, file), out);
    else if (values.check) console.error(`${file}: its generated sections differ from bench/*.json`);
    ++stale;
  }
  if (values.check && stale) process.exit(1);
}
