// The twod example's output as a terminal shows it (stdout and stderr in the order written):
// tfjs's Node notice comes first, once, with one line saying what it means, and never inside
// the example's header.
import {spawnSync} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {NOTICE_EXPLAINED} from '../../shared/tfjs_notice.mjs';

const root = resolve(__dirname, '../../..');

test('tfjs\'s Node notice is printed before the header, once, and explained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twod-notice-'));
  const fd = openSync(join(dir, 'output.txt'), 'w');
  try {
    const r = spawnSync(process.execPath, [join(root, 'examples/twod/index.mjs'), '--dataset', 'circle',
      '--models', 'relu', '--seeds', '1', '--epochs', '1', '--train-size', '50', '--no-plots', '--out', dir],
    {cwd: root, stdio: ['ignore', fd, fd], timeout: 120000});
    const output = readFileSync(join(dir, 'output.txt'), 'utf8');
    expect([r.status, output]).toEqual([0, expect.any(String)]);
    const notice = 'Hi, looks like you are running TensorFlow.js in Node.js';
    expect(output.split(notice).length).toBe(2);
    expect(output.indexOf(notice)).toBeLessThan(output.indexOf(NOTICE_EXPLAINED));
    const header = output.indexOf('Deep splines on the 2-D benchmark');
    expect(output.indexOf(NOTICE_EXPLAINED)).toBeLessThan(header);
    // the header's lines follow each other
    expect(output.slice(header)).toMatch(/^Deep splines on the 2-D benchmark\nBackend: cpu.*\nSchedule: /);
  } finally {
    closeSync(fd);
    rmSync(dir, {recursive: true, force: true});
  }
});
