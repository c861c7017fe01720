/**
 * A small canvas line chart of tokens per second over time (the last `windowS` seconds), drawn
 * with the 2D context only — no chart library. Redraws on every `push`.
 */

export interface ChartPoint {
  /** Seconds since the page started. */
  readonly t: number;
  readonly tps: number;
}

export class TpsChart {
  private readonly points: ChartPoint[] = [];
  private readonly ctx: CanvasRenderingContext2D | null;

  constructor(readonly canvas: HTMLCanvasElement, private readonly windowS = 60) {
    this.ctx = canvas.getContext('2d');
    this.draw();
  }

  push(p: ChartPoint): void {
    this.points.push(p);
    while (this.points.length > 0 && this.points[0]!.t < p.t - this.windowS) this.points.shift();
    this.draw();
  }

  get latest(): ChartPoint | null {
    return this.points[this.points.length - 1] ?? null;
  }

  get peak(): number {
    return this.points.reduce((m, p) => Math.max(m, p.tps), 0);
  }

  private draw(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const cssW = this.canvas.clientWidth || 320;
    const cssH = this.canvas.clientHeight || 120;
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const W = cssW;
    const H = cssH;
    const padL = 34;
    const padB = 16;
    ctx.clearRect(0, 0, W, H);
    const style = getComputedStyle(this.canvas);
    const fg = style.getPropertyValue('--chart-fg').trim() || '#888';
    const line = style.getPropertyValue('--chart-line').trim() || '#2f7de1';
    const maxY = niceMax(Math.max(1, this.peak));
    const now = this.latest?.t ?? 0;
    const t0 = now - this.windowS;
    const x = (t: number): number => padL + ((t - t0) / this.windowS) * (W - padL - 4);
    const y = (v: number): number => H - padB - (v / maxY) * (H - padB - 6);

    ctx.strokeStyle = fg;
    ctx.globalAlpha = 0.25;
    ctx.lineWidth = 1;
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = fg;
    for (let i = 0; i <= 4; i++) {
      const v = (maxY * i) / 4;
      ctx.beginPath();
      ctx.moveTo(padL, y(v));
      ctx.lineTo(W - 4, y(v));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    for (let i = 0; i <= 4; i += 2) {
      const v = (maxY * i) / 4;
      ctx.fillText(maxY < 10 ? v.toFixed(1) : String(Math.round(v)), 2, y(v) + 3);
    }
    ctx.fillText(`-${this.windowS}s`, padL, H - 3);
    ctx.fillText('now', W - 24, H - 3);

    if (this.points.length < 2) return;
    ctx.strokeStyle = line;
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.t), y(p.tps)) : ctx.lineTo(x(p.t), y(p.tps))));
    ctx.stroke();
  }
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
