/**
 * The command-line parsing the examples share (twod, mnist, existing-model): node:util's
 * parseArgs in strict mode with its message on one line, then numeric options checked by kind.
 */
import {parseArgs as parseArgv} from 'node:util';

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
    parsed = parseArgv({
      args: argv, strict: true, allowPositionals: false,
      options: {...Object.fromEntries(Object.keys(numbers).map((k) => [k, {type: 'string'}])), ...options},
    }).values;
  } catch (e) {
    // parseArgs's messages name the option (one line here); its advice on positionals is dropped.
    throw new Error(`${String(e.message).replace(/\s+/g, ' ').split('. To specify a positional')[0]} (see --help)`);
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
