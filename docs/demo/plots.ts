// Canvas plots of the demo: decision region, learned activations, training history.

/** Orange for class 1, blue for class 0, white at p = 0.5. */
function color(p: number): [number, number, number] {
  const t = Math.min(1, Math.abs(2 * p - 1));
  const [r, g, b] = p > 0.5 ? [241, 162, 8] : [69, 123, 157];
  return [255 + (r - 255) * t, 255 + (g - 255) * t, 255 + (b - 255) * t];
}

/**
 * The network's probabilities on a `side x side` grid over [-1, 1]^2 (row 0 at the top),
 * with the training points drawn over them.
 */
export function drawRegion(canvas: HTMLCanvasElement, probabilities: Float32Array, side: number,
    points: {x: Float32Array, y: Float32Array}): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const image = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const [r, g, b] = color(probabilities[i]);
    image.data.set([r, g, b, 255], 4 * i);
  }
  const scratch = document.createElement('canvas');
  scratch.width = side;
  scratch.height = side;
  (scratch.getContext('2d') as CanvasRenderingContext2D).putImageData(image, 0, 0);
  const w = canvas.width;
  const h = canvas.height;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, w, h);
  const n = Math.min(points.y.length, 400);
  for (let i = 0; i < n; i++) {
    const px = (points.x[2 * i] + 1) / 2 * w;
    const py = (1 - points.x[2 * i + 1]) / 2 * h;
    ctx.beginPath();
    ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
    ctx.fillStyle = points.y[i] > 0.5 ? '#b86e00' : '#1d3557';
    ctx.fill();
  }
}

interface Curves {
  x: Float32Array;
  y: number[][];
  slopes: number[][];
  knots: Float32Array;
}

/** One small canvas per spline (channels of each layer on one row). */
export function drawActivations(container: HTMLElement, layers: Curves[], perRow: number,
    threshold: number): void {
  const total = layers.reduce((s, l) => s + l.y.length, 0);
  while (container.children.length < total) {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    container.append(canvas);
  }
  let index = 0;
  for (const layer of layers) {
    for (let ch = 0; ch < layer.y.length; ch++) {
      const canvas = container.children[index++] as HTMLCanvasElement;
      plotSpline(canvas, layer.x, layer.y[ch], layer.knots, layer.slopes[ch], threshold);
    }
  }
  container.style.gridTemplateColumns = `repeat(${perRow}, 1fr)`;
}

function plotSpline(canvas: HTMLCanvasElement, x: Float32Array, y: number[], knots: Float32Array,
    slopes: number[], threshold: number): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const x0 = x[0];
  const x1 = x[x.length - 1];
  let y0 = Math.min(...y);
  let y1 = Math.max(...y);
  if (y1 - y0 < 1e-3) { y0 -= 0.5; y1 += 0.5; }
  const pad = 0.1 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const sx = (v: number) => (v - x0) / (x1 - x0) * w;
  const sy = (v: number) => h - (v - y0) / (y1 - y0) * h;
  ctx.strokeStyle = '#ccc';
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (x0 < 0 && x1 > 0) { ctx.moveTo(sx(0), 0); ctx.lineTo(sx(0), h); }
  if (y0 < 0 && y1 > 0) { ctx.moveTo(0, sy(0)); ctx.lineTo(w, sy(0)); }
  ctx.stroke();
  ctx.strokeStyle = '#1d3557';
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i < x.length; i++) {
    if (i === 0) ctx.moveTo(sx(x[i]), sy(y[i]));
    else ctx.lineTo(sx(x[i]), sy(y[i]));
  }
  ctx.stroke();
  // Active knots: the inner knots whose ReLU slope is not (numerically) zero.
  ctx.fillStyle = '#e07a00';
  for (let k = 0; k < slopes.length; k++) {
    if (Math.abs(slopes[k]) <= threshold) continue;
    const t = knots[k + 1];
    let i = 0;
    while (i < x.length - 1 && x[i + 1] < t) i++;
    const f = x[i + 1] === x[i] ? 0 : (t - x[i]) / (x[i + 1] - x[i]);
    const v = y[i] + f * (y[i + 1] - y[i]);
    ctx.beginPath();
    ctx.arc(sx(t), sy(v), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** Loss (left axis) and Lipschitz bound (right axis) against the measurement index. */
export function drawHistory(canvas: HTMLCanvasElement, history: {loss: number, bound: number}[]): void {
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  if (history.length < 2) return;
  const series = (values: number[], stroke: string) => {
    const max = Math.max(...values) * 1.05 || 1;
    ctx.strokeStyle = stroke;
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => {
      const px = i / (values.length - 1) * (w - 10) + 5;
      const py = h - 15 - v / max * (h - 30);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
    return max;
  };
  const lossMax = series(history.map((p) => p.loss), '#0b5cad');
  const boundMax = series(history.map((p) => p.bound), '#e07a00');
  ctx.fillStyle = '#57606a';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(`loss ≤ ${lossMax.toPrecision(3)}`, 6, 12);
  const text = `bound ≤ ${boundMax.toPrecision(3)}`;
  ctx.fillText(text, w - 6 - ctx.measureText(text).width, 12);
}
