// The command lines of the repository's scripts and examples (bench/run.mjs, the browser
// benches, examples/*/index.mjs): strict parseArgs, an unknown or malformed option or a bad
// value is a one-line error naming it (exit 2), --help / -h prints the usage (exit 0).
import {parseArgs} from 'node:util';

/**
 * parseArgs's error message on one line, without its advice on positionals (it names the
 * option).
 * @param {Error} e
 */
export function parseArgsMessage(e) {
  return String(e.message).replace(/\s+/g, ' ').split('. To specify a positional')[0];
}

/**
 * The preamble of every command line: `parse(process.argv.slice(2))`; an error it throws is
 * printed as `error: <message>` (exit 2), and a result with `help` set prints `usage` (exit
 * 0). Returns the parsed result.
 * @template {{help?: boolean}} T
 * @param {(argv: string[]) => T} parse
 * @param {string} usage What --help prints, as it is.
 * @returns {T}
 */
export function commandLine(parse, usage) {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return parsed;
}

/**
 * Parses `process.argv` with `options` (a `--help` flag is added), or prints and exits: an
 * error with the usage after it.
 * @param {Record<string, import('node:util').ParseArgsOptionDescriptor>} options
 * @param {string} usage What --help and errors print.
 * @returns {Record<string, string | boolean | undefined>}
 */
export function parseCommandLine(options, usage) {
  return commandLine((args) => {
    try {
      return parseArgs({args, strict: true, allowPositionals: false,
        options: {...options, help: {type: 'boolean', short: 'h', default: false}}}).values;
    } catch (e) {
      throw new Error(`${parseArgsMessage(e)}\n${usage}`);
    }
  }, `${usage}\n`);
}

/**
 * Options that take a number, by flag: `[key, kind, minimum]` with kind `'int'` (an integer
 * >= minimum), `'pos'` (> 0) or `'nonneg'` (>= 0).
 * @typedef {Record<string, [string, 'int' | 'pos' | 'nonneg', number?]>} NumberOptions
 */

/** The value of `--name` (`raw`), checked against its kind. */
function checkNumber(name, raw, [, kind, min]) {
  const v = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(v) &&
    (kind === 'int' ? Number.isInteger(v) && v >= min : kind === 'pos' ? v > 0 : v >= 0);
  if (!ok) {
    const want = kind === 'int' ? `an integer >= ${min}` : kind === 'pos' ? 'a number > 0' : 'a number >= 0';
    throw new Error(`--${name}: expected ${want}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/**
 * Parses `argv` with the numeric options `numbers` (taken as strings, then checked) and the
 * other parseArgs `options`. Returns the parsed values, the numbers by key, and which keys were
 * given. Throws an Error with a clear one-line message on bad input.
 * @param {string[]} argv
 * @param {NumberOptions} numbers
 * @param {Record<string, {type: 'string' | 'boolean', short?: string}>} options
 */
export function parseOptions(argv, numbers, options) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {...Object.fromEntries(Object.keys(numbers).map((k) => [k, {type: 'string'}])), ...options},
    }).values;
  } catch (e) {
    throw new Error(`${parseArgsMessage(e)} (see --help)`);
  }
  const values = {};
  const given = {};
  for (const [name, spec] of Object.entries(numbers)) {
    if (parsed[name] === undefined) continue;
    values[spec[0]] = checkNumber(name, parsed[name], spec);
    given[spec[0]] = true;
  }
  return {parsed, values, given};
}

/** The models of `--models a,b` (a comma-separated subset of `models`' keys, in their order). */
export function parseModelList(raw, models) {
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((m) => !(m in models));
  if (list.length === 0 || bad.length > 0) {
    throw new Error(`--models: unknown ${JSON.stringify(bad.join(','))}; expected a comma-separated ` +
      `subset of ${Object.keys(models).join(',')}`);
  }
  return Object.keys(models).filter((m) => list.includes(m));
}
