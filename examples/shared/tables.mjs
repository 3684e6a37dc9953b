/** The examples' results tables, as console text and as Markdown, from one list of columns. */

/**
 * A plain-text table with aligned columns: `columns` are `{head, get(row) -> string, right?}`
 * (right-aligned when `right`).
 */
export function textTable(rows, columns) {
  const cells = rows.map((r) => columns.map((c) => c.get(r)));
  const widths = columns.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i].length)));
  const line = (vals) => vals.map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.head)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A GitHub-flavoured Markdown table of the same `columns`. */
export function markdownTable(rows, columns) {
  const head = `| ${columns.map((c) => c.head).join(' | ')} |`;
  const sep = `|${columns.map((c) => (c.right ? '---:' : ':---')).join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${columns.map((c) => c.get(r)).join(' | ')} |`)].join('\n');
}
