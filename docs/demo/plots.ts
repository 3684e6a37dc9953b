// Canvas plots of the demo, each with labelled axes: the decision region (with the certified
// ball of the point under the mouse), the learned activations, the training history.

const AXIS = '#57606a';
const GRID = '#e4e7eb';
const FONT = '12px system-ui, sans-serif';
const SMALL = '10px system-ui, sans-serif';

/** Orange for class 1, blue for class 0, white at p = 0.5. */
function color(p: number): [number, number, number] {
  const t = Math.min(1, Math.abs(2 * p - 1));
  const [r, g, b] = p > 0.5 ? [241, 162, 8] : [69, 123, 157];
  return [255 + (r - 255) * t, 255 + (g - 255) * t, 255 + (b - 255) * t];
}

/** The plot area of a canvas inside its margins, and the maps from data to pixels. */
interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
}

function frame(canvas: HTMLCanvasElement, margin: {left: number, right: number, top: number, bottom: number},
    [x0, x1]: [number, number], [y0, y1]: [number, number]): Frame {
  const width = canvas.width - margin.left - margin.right;
  const height = canvas.height - margin.top - margin.bottom;
  return {left: margin.left, top: margin.top, width, height,
    sx: (v) => margin.left + (v - x0) / (x1 - x0) * width,
    sy: (v) => margin.top + height - (v - y0) / (y1 - y0) * height};
}

/** `ticks` along the x axis (below the frame) and the y axis (left, or right). */
function axes(ctx: CanvasRenderingContext2D, f: Frame, xTicks: number[], yTicks: number[],
    options: {font?: string, yRight?: boolean, yColor?: string, format?: (v: number) => string} = {}): void {
  const format = options.format ?? ((v: number) => String(Number(v.toPrecision(3))));
  ctx.font = options.font ?? FONT;
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 1;
  ctx.strokeRect(f.left + 0.5, f.top + 0.5, f.width, f.height);
  ctx.fillStyle = AXIS;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of xTicks) {
    const x = f.sx(v);
    ctx.beginPath();
    ctx.moveTo(x, f.top + f.height);
    ctx.lineTo(x, f.top + f.height + 4);
    ctx.stroke();
    ctx.fillText(format(v), x, f.top + f.height + 5);
  }
  const right = options.yRight ?? false;
  ctx.textAlign = right ? 'left' : 'right';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = options.yColor ?? AXIS;
  for (const v of yTicks) {
    const y = f.sy(v);
    const edge = right ? f.left + f.width : f.left;
    ctx.beginPath();
    ctx.moveTo(edge, y);
    ctx.lineTo(right ? edge + 4 : edge - 4, y);
    ctx.stroke();
    ctx.fillText(format(v), right ? edge + 6 : edge - 6, y);
  }
}

/** An axis title: below the frame (x) or rotated beside it (y). */
function axisTitle(ctx: CanvasRenderingContext2D, f: Frame, text: string, where: 'x' | 'left' | 'right',
    fill = AXIS, font = FONT): void {
  ctx.save();
  ctx.font = font;
  ctx.fillStyle = fill;
  ctx.textAlign = 'center';
  if (where === 'x') {
    ctx.textBaseline = 'bottom';
    ctx.fillText(text, f.left + f.width / 2, ctx.canvas.height - 2);
  } else {
    ctx.translate(where === 'left' ? 2 : ctx.canvas.width - 2, f.top + f.height / 2);
    ctx.rotate(where === 'left' ? -Math.PI / 2 : Math.PI / 2);
    ctx.textBaseline = 'top';
    ctx.fillText(text, 0, 0);
  }
  ctx.restore();
}

/** Round tick values covering [lo, hi] (about `count` of them). */
function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) as number;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

/** What the region plot marks at the mouse: a point and its certified l2 ball. */
export interface Probe {
  x: number;
  y: number;
  radius: number;
}

/** The margins of the region plot (docs/demo/main.ts maps mouse positions with them). */
export const REGION_MARGIN = {left: 34, right: 8, top: 8, bottom: 36};

/**
 * The network's probabilities on a `side x side` grid over [-1, 1]^2 (row 0 at the top),
 * the training points, and the probe's certified ball when there is one.
 */
export function drawRegion(canvas: HTMLCanvasElement, probabilities: Float32Array, side: number,
    points: {x: Float32Array, y: Float32Array}, probe: Probe | null): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const f = frame(canvas, REGION_MARGIN, [-1, 1], [-1, 1]);
  const image = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const [r, g, b] = color(probabilities[i]);
    image.data.set([r, g, b, 255], 4 * i);
  }
  const scratch = document.createElement('canvas');
  scratch.width = side;
  scratch.height = side;
  (scratch.getContext('2d') as CanvasRenderingContext2D).putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, f.left, f.top, f.width, f.height);
  const n = Math.min(points.y.length, 400);
  for (let i = 0; i < n; i++) {
    ctx.beginPath();
    ctx.arc(f.sx(points.x[2 * i]), f.sy(points.x[2 * i + 1]), 2.2, 0, 2 * Math.PI);
    ctx.fillStyle = points.y[i] > 0.5 ? '#b86e00' : '#1d3557';
    ctx.fill();
  }
  if (probe) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.left, f.top, f.width, f.height);
    ctx.clip();
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(f.sx(probe.x), f.sy(probe.y), Math.max(2, probe.radius * f.width / 2), 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }
  axes(ctx, f, [-1, -0.5, 0, 0.5, 1], [-1, -0.5, 0, 0.5, 1]);
  axisTitle(ctx, f, 'x₁', 'x');
  axisTitle(ctx, f, 'x₂', 'left');
}

interface Curves {
  x: Float32Array;
  y: number[][];
  slopes: number[][];
  knots: Float32Array;
}

/**
 * One canvas per spline, in layer order (docs/demo/index.md's CSS lays them out in rows),
 * each titled with its layer and neuron.
 */
export function drawActivations(container: HTMLElement, layers: Curves[], threshold: number): void {
  const total = layers.reduce((s, l) => s + l.y.length, 0);
  while (container.children.length < total) {
    const canvas = document.createElement('canvas');
    // Two rows of four as tall as the region plot beside them (docs/.vitepress/theme/custom.css).
    canvas.width = 210;
    canvas.height = 240;
    container.append(canvas);
  }
  let index = 0;
  layers.forEach((layer, l) => {
    for (let ch = 0; ch < layer.y.length; ch++) {
      const canvas = container.children[index++] as HTMLCanvasElement;
      plotSpline(canvas, `layer ${l + 1}, neuron ${ch + 1}`, layer.x, layer.y[ch], layer.knots,
        layer.slopes[ch], threshold);
    }
  });
}

function plotSpline(canvas: HTMLCanvasElement, title: string, x: Float32Array, y: number[],
    knots: Float32Array, slopes: number[], threshold: number): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const x0 = x[0];
  const x1 = x[x.length - 1];
  let y0 = Math.min(...y);
  let y1 = Math.max(...y);
  if (y1 - y0 < 1e-3) { y0 -= 0.5; y1 += 0.5; }
  const pad = 0.08 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const f = frame(canvas, {left: 40, right: 6, top: 18, bottom: 34}, [x0, x1], [y0, y1]);
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (x0 < 0 && x1 > 0) { ctx.moveTo(f.sx(0), f.top); ctx.lineTo(f.sx(0), f.top + f.height); }
  if (y0 < 0 && y1 > 0) { ctx.moveTo(f.left, f.sy(0)); ctx.lineTo(f.left + f.width, f.sy(0)); }
  ctx.stroke();
  ctx.strokeStyle = '#1d3557';
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i < x.length; i++) {
    if (i === 0) ctx.moveTo(f.sx(x[i]), f.sy(y[i]));
    else ctx.lineTo(f.sx(x[i]), f.sy(y[i]));
  }
  ctx.stroke();
  // Active knots: the inner knots whose ReLU slope is not (numerically) zero.
  ctx.fillStyle = '#e07a00';
  for (let k = 0; k < slopes.length; k++) {
    if (Math.abs(slopes[k]) <= threshold) continue;
    const t = knots[k + 1];
    let i = 0;
    while (i < x.length - 1 && x[i + 1] < t) i++;
    const w = x[i + 1] === x[i] ? 0 : (t - x[i]) / (x[i + 1] - x[i]);
    ctx.beginPath();
    ctx.arc(f.sx(t), f.sy(y[i] + w * (y[i + 1] - y[i])), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  axes(ctx, f, [x0, 0, x1], [y0 + pad, y1 - pad], {font: SMALL,
    format: (v) => v.toFixed(Math.abs(v) >= 10 ? 0 : 2)});
  ctx.font = SMALL;
  ctx.fillStyle = AXIS;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(title, f.left, 3);
  axisTitle(ctx, f, 'x (pre-activation)', 'x', AXIS, SMALL);
  axisTitle(ctx, f, 'σ(x)', 'left', AXIS, SMALL);
}

/** One point of the history plot. */
export interface HistoryPoint {
  step: number;
  loss: number;
  bound: number;
}

/**
 * Loss (left axis) and Lipschitz bound (right axis) against the training step. The canvas
 * takes its displayed width (so that its text stays readable on a phone and on a wide screen).
 */
export function drawHistory(canvas: HTMLCanvasElement, history: HistoryPoint[], lossName: string): void {
  const width = Math.round(canvas.clientWidth);
  if (width > 0 && canvas.width !== width) {
    canvas.width = width;
    canvas.height = Math.round(Math.min(240, Math.max(200, 0.3 * width)));
  }
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (history.length < 2) return;
  const steps = history.map((p) => p.step);
  const lossMax = Math.max(...history.map((p) => p.loss)) * 1.05 || 1;
  const boundMax = Math.max(...history.map((p) => p.bound)) * 1.05 || 1;
  const stepRange: [number, number] = [steps[0], steps[steps.length - 1]];
  const margin = {left: 56, right: 56, top: 10, bottom: 36};
  const lossFrame = frame(canvas, margin, stepRange, [0, lossMax]);
  const boundFrame = frame(canvas, margin, stepRange, [0, boundMax]);
  const series = (f: Frame, values: number[], stroke: string) => {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => {
      if (i === 0) ctx.moveTo(f.sx(steps[i]), f.sy(v)); else ctx.lineTo(f.sx(steps[i]), f.sy(v));
    });
    ctx.stroke();
  };
  series(lossFrame, history.map((p) => p.loss), '#0b5cad');
  series(boundFrame, history.map((p) => p.bound), '#e07a00');
  axes(ctx, lossFrame, niceTicks(stepRange[0], stepRange[1], 6), niceTicks(0, lossMax, 4), {yColor: '#0b5cad'});
  axes(ctx, boundFrame, [], niceTicks(0, boundMax, 4), {yRight: true, yColor: '#e07a00'});
  axisTitle(ctx, lossFrame, 'training step', 'x');
  axisTitle(ctx, lossFrame, lossName, 'left', '#0b5cad');
  axisTitle(ctx, boundFrame, 'Lipschitz bound', 'right', '#e07a00');
}
