// The command line of the browser benchmarks (npm run bench:webgl, npm run bench:webgpu):
// --quick (fewer samples and shapes), --out DIR (where the results JSON goes; default bench/),
// --help. Unknown options are an error naming them, as in bench/run.mjs.
import {resolve} from 'node:path';
import {parseCommandLine} from './cli.mjs';

/**
 * Parses `process.argv` for a browser benchmark, or prints usage and exits (0 for --help,
 * 2 for a bad option).
 * @param {string} usage The command, e.g. `node packages/webgl/bench/bench.mjs`.
 * @param {string} defaultOut The default output folder (absolute).
 * @returns {{quick: boolean, out: string}}
 */
export function benchArgs(usage, defaultOut) {
  const help = `usage: ${usage} [--quick] [--out DIR] [--help]\n` +
    '  --quick     fewer samples and shapes\n' +
    `  --out DIR   write the results JSON into DIR (default ${defaultOut})`;
  const values = parseCommandLine({quick: {type: 'boolean'}, out: {type: 'string'}}, help);
  if (values.out === '') {
    console.error(`error: --out needs a folder\n${help}`);
    process.exit(2);
  }
  return {quick: values.quick === true, out: resolve(/** @type {string} */ (values.out ?? defaultOut))};
}
