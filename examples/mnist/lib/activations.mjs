/** Panels of learned spline activations for the `activationsSvg` grid (examples/shared/svg.mjs). */
import {SplineActivation} from '@deepspline/layers';

/** |ReLU slope change| above which a knot counts as active (drawn red): 0, exact non-zeros. */
export const KNOT_THRESHOLD = 0;

/**
 * One row per spline layer of `model`: `perLayer` channels evenly spaced over the layer's
 * channels (0, C/perLayer, ...), a fixed choice rather than the most interesting ones.
 */
export function activationRows(model, modelName, perLayer = 8) {
  const rows = [];
  for (const layer of model.layers) {
    if (!(layer instanceof SplineActivation)) continue;
    const {x, y} = layer.curves(161, 2);
    const coeffs = layer.effectiveCoefficients();
    const slopes = layer.reluSlopes();
    const xs = Array.from(x.dataSync());
    const ys = y.arraySync();
    const c = coeffs.arraySync();
    const a = slopes.arraySync();
    // With a learnable scale, channel n is sigma(s x) / s: its knots are at t_k / s, its values c[k] / s.
    const knotsT = layer.channelKnots();
    const scaleT = layer.effectiveScale();
    const knots = knotsT.arraySync();
    const scale = Array.from(scaleT.dataSync());
    [x, y, coeffs, slopes, knotsT, scaleT].forEach((t) => t.dispose());
    const channels = Array.from({length: Math.min(perLayer, ys.length)},
      (_, i) => Math.floor((i * ys.length) / Math.min(perLayer, ys.length)));
    rows.push({label: modelName, panels: channels.map((n) => ({
      label: `${layer.name} ch. ${n}: ${a[n].filter((v) => Math.abs(v) > KNOT_THRESHOLD).length} knots`,
      x: xs, y: ys[n], range: layer.grid.range / scale[n % scale.length],
      knots: knots[n % knots.length].map((t, k) => ({x: t, y: c[n][k] / scale[n % scale.length], active: k > 0 && k < c[n].length - 1 &&
        Math.abs(a[n][k - 1]) > KNOT_THRESHOLD})),
    }))});
  }
  return rows;
}
