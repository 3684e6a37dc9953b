/**
 * A tiny dependency-free progress bar on stderr. On a TTY it redraws one line in place; when
 * stderr is not a TTY (CI logs, pipes) it prints nothing while running and a single summary
 * line at the end, so logs are not spammed.
 */

/**
 * @param {string} label text in front of the bar
 * @param {number} total number of steps
 * @param {{stream?: NodeJS.WriteStream, width?: number, enabled?: boolean}} [options]
 */
export function progressBar(label, total, options = {}) {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? true;
  const tty = enabled && Boolean(stream.isTTY);
  const width = options.width ?? 28;
  const start = Date.now();
  let lastDraw = 0;
  let current = 0;
  const draw = (suffix) => {
    const frac = total > 0 ? Math.min(1, current / total) : 1;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    const line = `${label} [${bar}] ${current}/${total} ${secs}s${suffix ? ' ' + suffix : ''}`;
    const cols = stream.columns ?? 100;
    stream.write('\r' + line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length)) + '\x1b[K');
  };
  return {
    /** Advances to `value` (absolute); `suffix` is shown after the counter (e.g. the loss). */
    update(value, suffix = '') {
      current = value;
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 100 && current < total) return;  // at most 10 redraws a second
      lastDraw = now;
      draw(suffix);
    },
    /** Ends the bar with a final line (the only line printed when not on a TTY). */
    done(suffix = '') {
      if (!enabled) return;
      const secs = ((Date.now() - start) / 1000).toFixed(1);
      if (tty) {
        draw(suffix);
        stream.write('\n');
      } else {
        stream.write(`${label}: ${current}/${total} done in ${secs}s${suffix ? ' ' + suffix : ''}\n`);
      }
    },
  };
}
