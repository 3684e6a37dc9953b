// The command lines of the repository's scripts (bench/run.mjs, the browser benches): strict
// parseArgs, an unknown or malformed option is a one-line error naming it plus the usage (exit
// 2), --help / -h prints the usage (exit 0).
import {parseArgs} from 'node:util';

/**
 * Parses `process.argv` with `options` (a `--help` flag is added), or prints and exits.
 * @param {Record<string, import('node:util').ParseArgsOptionDescriptor>} options
 * @param {string} usage What --help and errors print.
 * @returns {Record<string, string | boolean | undefined>}
 */
export function parseCommandLine(options, usage) {
  let values;
  try {
    ({values} = parseArgs({strict: true, allowPositionals: false,
      options: {...options, help: {type: 'boolean', short: 'h', default: false}}}));
  } catch (e) {
    // parseArgs's message names the option (one line here); its advice on positionals is dropped.
    console.error(`error: ${String(e.message).replace(/\s+/g, ' ').split('. To specify a positional')[0]}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}
