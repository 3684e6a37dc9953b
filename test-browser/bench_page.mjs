// What the browser benchmarks (packages/webgl/bench, packages/webgpu/bench) share around their
// page scripts: open the page, check the backend, run every configuration through
// `window.bench.run(config)` (bench_timing.ts's interleaved medians), print a row each and
// write the results file.
import {mkdirSync, writeFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {join} from 'node:path';
import {benchArgs} from '../scripts/bench-args.mjs';
import {openPage, ROOT} from './harness.mjs';

const NOTE_TAIL = 'Medians of interleaved samples in one run; ratios are same-run ratios ' +
  'of medians. Each sample times repsPerSample calls and waits for the last outputs.';

/**
 * Runs `packages/<backend>/bench/bench.mjs`: parses its command line (`--quick`, `--out`),
 * opens the page script `page.ts` beside it (Chromium flags `args`), throws unless the page's
 * environment has the backend (`label` names it in the message), prints
 * `describe(environment)`, then one row per configuration of `configs(quick)`; writes
 * `{date, command, note, environment, results}` to `<out>/<backend>-results.json` (the
 * environment with the CPU that SwiftShader ran on, `machine`). `note` is
 * the machine's part of the note.
 */
export async function runBenchPage({args, backend, label, describe, configs, command, note}) {
  const {quick, out: outDir} = benchArgs(`node packages/${backend}/bench/bench.mjs`, join(ROOT, 'bench'));
  const p = await openPage(join(ROOT, 'packages', backend, 'bench', 'page.ts'), {args});
  try {
    const env = await p.page.evaluate(() => window.bench.environment());
    if (env.backend !== backend) throw new Error(`${label} is not available in Chromium: ${JSON.stringify(env)}`);
    console.log(describe(env));
    console.log('SwiftShader is a CPU emulation of a GPU: these ratios measure work, not GPU speed.\n');
    const results = [];
    for (const config of configs(quick)) {
      const r = await p.page.evaluate((c) => window.bench.run(c), config);
      results.push(r);
      const f = (v) => v.toFixed(2).padStart(8);
      console.log(`x [${r.shape}] K=${r.K}${r.shared ? ' shared' : ''} ${r.pass.padEnd(16)} median ms: kernel ${f(r.medianMs.kernel)} ` +
        `fallback ${f(r.medianMs.fallback)} relu ${f(r.medianMs.relu)} | fallback/kernel ` +
        `${r.ratios.fallbackOverKernel.toFixed(2)}x, kernel/relu ${r.ratios.kernelOverRelu.toFixed(2)}x`);
    }
    if (p.errors.length) throw new Error(`page errors: ${p.errors.join('\n')}`);
    // SwiftShader renders on the CPU, so the CPU is the machine of these numbers.
    const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`;
    const out = {date: new Date().toISOString(), command, note: `${note} ${NOTE_TAIL}`,
      environment: {...env, machine}, results};
    const file = join(outDir, `${backend}-results.json`);
    mkdirSync(outDir, {recursive: true});
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${file}`);
  } finally {
    await p.close();
  }
}
