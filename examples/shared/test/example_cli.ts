// What the examples' smoke tests share: running a script of an example with node from the
// repository root (its output captured apart or as a terminal shows it), an output folder in the temporary directory (after checking that the
// packages the scripts import are built), and the check of a written SVG figure.
import {spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';

/** The repository root (the scripts run from there, as `npm start` runs them). */
export const root = resolve(__dirname, '../../..');

/** What a script run printed and its exit status (null when killed at `timeout` ms). */
export interface ScriptRun { stdout: string, stderr: string, status: number | null }

/** Runs `node file ...args` from the repository root. */
export function runScript(file: string, args: string[], timeout: number): ScriptRun {
  const r = spawnSync(process.execPath, [file, ...args], {cwd: root, encoding: 'utf8', timeout});
  return {stdout: r.stdout, stderr: r.stderr, status: r.status};
}

/**
 * Runs `node file ...args` from the repository root with stdout and stderr into one file, so
 * the output is what a terminal shows (the two streams in the order they were written).
 */
export function runForTerminal(file: string, args: string[], timeout: number): {status: number | null, output: string} {
  const path = join(mkdtempSync(join(tmpdir(), 'example-output-')), 'output.txt');
  const fd = openSync(path, 'w');
  try {
    const r = spawnSync(process.execPath, [file, ...args], {cwd: root, stdio: ['ignore', fd, fd], timeout});
    return {status: r.status, output: readFileSync(path, 'utf8')};
  } finally {
    closeSync(fd);
    rmSync(dirname(path), {recursive: true, force: true});
  }
}

/**
 * Registers `beforeAll` / `afterAll` hooks: checks that `packages` are built (the scripts import
 * the BUILT packages) and makes an empty folder `<tmp>/<prefix>...`, removed after the tests.
 * Returns a getter of that folder.
 */
export function exampleOutputDir(prefix: string, packages: string[] = ['core', 'layers', 'lipschitz']): () => string {
  let out = '';
  beforeAll(() => {
    for (const pkg of packages) {
      if (!existsSync(join(root, `packages/${pkg}/dist/esm/index.js`))) {
        throw new Error(`packages/${pkg} is not built; run npm run build first (npm test does)`);
      }
    }
    out = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(out, {recursive: true, force: true}));
  return () => out;
}

/** A well-formed standalone SVG document (balanced root, declared size, no NaN). */
export function expectSvg(text: string): void {
  expect(text.startsWith('<?xml')).toBe(true);
  expect(text).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* width="\d+" height="\d+"/);
  expect(text.trim().endsWith('</svg>')).toBe(true);
  expect((text.match(/<svg/g) ?? []).length).toBe(1);
  expect(text).not.toMatch(/NaN|undefined|Infinity/);
}
