/** Runs of index.mjs in child processes, a few at a time (ablation.mjs, seeds.mjs). */
import {spawn} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The example's main script. */
export const INDEX = join(dirname(fileURLToPath(import.meta.url)), '..', 'index.mjs');

/**
 * Runs `node index.mjs ...args` (quiet, output on stderr only on failure); resolves with the
 * seconds it took, rejects with its stderr when it exits non-zero.
 * @param {string} name what the run is, for the error
 * @param {string[]} args
 * @returns {Promise<number>}
 */
export function runIndex(name, args) {
  return new Promise((done, fail) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [INDEX, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => {
      if (code !== 0) fail(new Error(`${name} (node ${args.join(' ')}) exited ${code}:\n${stderr}`));
      else done((Date.now() - t0) / 1000);
    });
  });
}

/**
 * `task(item)` for every item, at most `jobs` at a time; the results in the items' order.
 * @template T, R
 * @param {T[]} items
 * @param {number} jobs
 * @param {(item: T) => Promise<R>} task
 * @returns {Promise<R[]>}
 */
export async function pool(items, jobs, task) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({length: Math.min(jobs, items.length)}, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  }));
  return results;
}
