/** Summaries of per-seed results, shared by the examples (twod's table, mnist's seeds.mjs). */

/**
 * Mean and sample standard deviation (n - 1) of finite numbers; `std` is null for one value,
 * the whole summary null when there is none.
 * @param {(number | null)[]} values
 */
export function meanStd(values) {
  const v = values.filter((x) => x != null && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return {mean, std};
}
