/**
 * The READMEs' speed figures are bench/report.mjs's rendering of bench/results.json,
 * bench/webgl-results.json and bench/webgpu-results.json: every generated section matches, and no speed figure appears
 * outside the generated sections.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

const root = join(__dirname, '..');
const report = join(root, 'bench', 'report.mjs');
const readmes = ['README.md', ...['core', 'layers', 'wasm', 'lipschitz', 'webgl', 'webgpu']
  .map((p) => `packages/${p}/README.md`)];

/** What a speed figure looks like: a ratio (`2.7x`, `60-100x`), a time, a throughput, "N times faster". */
const SPEED = [/(?<![\w(.])\d+(\.\d+)?(-\d+(\.\d+)?)?x\b/, /\b\d+(\.\d+)? ?(ms|ns|µs|us)\b/, /samples\/s/,
  /\b\d+(\.\d+)?( to \d+(\.\d+)?)? times (faster|slower)/, /\d+(\.\d+)?% (faster|slower)/];

function node(args: string[]): string {
  const script = `import(${JSON.stringify(report)}).then(async (m) => { ${args.join('\n')} })`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {cwd: root, encoding: 'utf8'});
}

test('every generated section of every README matches bench/*.json (node bench/report.mjs --check)', () => {
  let out = '';
  try {
    execFileSync(process.execPath, [report, '--check'], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    out = (e as {stderr: string}).stderr;
  }
  expect(out).toBe('');
});

test('the check fails when a README figure disagrees with results.json', () => {
  const out = node([
    "const fs = await import('node:fs');",
    "const [results, webgl, webgpu] = m.loadResults();",
    "const text = fs.readFileSync('packages/wasm/README.md', 'utf8');",
    "const edited = text.replace(/\\d+ to \\d+ times faster than the fallback/, '70 to 110 times faster than the fallback');",
    "console.log(edited !== text, m.renderReadme(edited, results, webgl, webgpu) === text);",
  ]);
  expect(out.trim()).toBe('true true');
});

test('the READMEs show the sections they are meant to', () => {
  const marked = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/<!-- bench:([a-z-]+) -->/g)]
    .map((m) => m[1]);
  expect(marked('README.md')).toEqual(['summary', 'training-table']);
  expect(marked('packages/wasm/README.md')).toEqual(['wasm-bullet', 'wasm-matmul', 'wasm-simd', 'wasm-tables', 'wasm-standing']);
  expect(marked('packages/webgl/README.md')).toEqual(['webgl-table']);
  expect(marked('packages/webgpu/README.md')).toEqual(['webgpu-table', 'webgpu-fwdbwd']);
  expect(marked('packages/layers/README.md')).toEqual(['layers-export', 'layers-export-ratio']);
});

test.each(readmes)('%s: no speed figure outside the generated sections', (file) => {
  const outside = node([
    "const fs = await import('node:fs');",
    `process.stdout.write(m.outsideSections(fs.readFileSync(${JSON.stringify(file)}, 'utf8')));`,
  ]).replace(/```[\s\S]*?```/g, '');
  const hits = outside.split('\n').filter((line) => SPEED.some((re) => re.test(line)));
  expect(hits).toEqual([]);
});

test('the renderer reproduces the ratios from the measurements (independent arithmetic)', () => {
  const results = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8'));
  const ops = results.ops as Array<{backend: string, op: string, implementation: string | null, K: number | null,
    input: string, ms: {fwd: number, fwdBwd: number | null}, overRelu: {fwd: number}, fallbackOverKernel: {fwd: number} | null}>;
  const relu = ops.find((r) => r.backend === 'wasm' && r.op === 'relu')!;
  const k21 = ops.find((r) => r.backend === 'wasm' && r.implementation === 'kernel' && r.K === 21 && r.input === 'uniform')!;
  const fb21 = ops.find((r) => r.backend === 'wasm' && r.implementation === 'fallback' && r.K === 21)!;
  expect(k21.overRelu.fwd).toBeCloseTo(k21.ms.fwd / relu.ms.fwd, 12);
  expect(k21.fallbackOverKernel!.fwd).toBeCloseTo(fb21.ms.fwd / k21.ms.fwd, 12);
  const wasm = readFileSync(join(root, 'packages', 'wasm', 'README.md'), 'utf8');
  expect(wasm).toContain(`| spline wasm kernel (SIMD) | 21 | ${k21.ms.fwd.toFixed(2)} | ${(k21.ms.fwd / relu.ms.fwd).toFixed(2)}x |`);
});
