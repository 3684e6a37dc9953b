// The twod example's output as a terminal shows it (stdout and stderr in the order written):
// tfjs's Node notice comes first, once, with one line saying what it means, and never inside
// the example's header.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {NOTICE_EXPLAINED} from '../../shared/tfjs_notice.mjs';
import {root, runForTerminal} from '../../shared/test/example_cli';


test('tfjs\'s Node notice is printed before the header, once, and explained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twod-notice-'));
  try {
    const {status, output} = runForTerminal(join(root, 'examples/twod/index.mjs'), ['--dataset', 'circle',
      '--models', 'relu', '--seeds', '1', '--epochs', '1', '--train-size', '50', '--no-plots', '--out', dir], 120000);
    expect([status, output]).toEqual([0, expect.any(String)]);
    const notice = 'Hi, looks like you are running TensorFlow.js in Node.js';
    expect(output.split(notice).length).toBe(2);
    expect(output.indexOf(notice)).toBeLessThan(output.indexOf(NOTICE_EXPLAINED));
    const header = output.indexOf('Deep splines on the 2-D benchmark');
    expect(output.indexOf(NOTICE_EXPLAINED)).toBeLessThan(header);
    // the header's lines follow each other
    expect(output.slice(header)).toMatch(/^Deep splines on the 2-D benchmark\nBackend: cpu.*\nSchedule: /);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});
