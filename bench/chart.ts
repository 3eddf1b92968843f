/** A series of points: x is an index into the chart's categories. */
export interface Series {
  name: string;
  values: number[];
}

/** One panel of a small-multiples chart. */
export interface Panel {
  title: string;
  series: Series[];
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
const W = 320;
const H = 240;
const PAD = { left: 52, right: 12, top: 28, bottom: 40 };

const esc = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** A "nice" upper bound for the axis: 1, 2 or 5 × 10^k above `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((m) => m * p >= max) ?? 10) * p;
}

/** How the x axis reads: its label, at most this many category labels, dots on points. */
export interface ChartOptions {
  xLabel?: string;
  maxLabels?: number;
  dots?: boolean;
}

/**
 * Line charts side by side, one per panel, sharing categories on x and each with its own y
 * scale from 0; written by hand as plain SVG (no fonts, scripts or external assets).
 */
export function lineChartSvg(
  title: string,
  yLabel: string,
  categories: string[],
  panels: Panel[],
  options: ChartOptions = {},
): string {
  const { xLabel = "payouts stored", maxLabels = categories.length, dots = true } = options;
  const labelStep = Math.max(1, Math.ceil(categories.length / Math.max(1, maxLabels)));
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const legendH = 18 * names.length + 10;
  const width = W * panels.length;
  const height = H + 30 + legendH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  );
  panels.forEach((panel, pi) => {
    const x0 = pi * W + PAD.left;
    const y0 = 30 + PAD.top;
    const pw = W - PAD.left - PAD.right;
    const ph = H - PAD.top - PAD.bottom;
    const top = niceMax(Math.max(...panel.series.flatMap((s) => s.values)));
    const xAt = (i: number) =>
      x0 + (categories.length > 1 ? (i * pw) / (categories.length - 1) : 0);
    const yAt = (v: number) => y0 + ph - (v / top) * ph;
    out.push(
      `<text x="${x0 + pw / 2}" y="${y0 - 10}" text-anchor="middle" font-size="12">${esc(panel.title)}</text>`,
    );
    for (let t = 0; t <= 4; t++) {
      const v = (top * t) / 4;
      out.push(
        `<line x1="${x0}" x2="${x0 + pw}" y1="${yAt(v)}" y2="${yAt(v)}" stroke="#ddd"/>`,
        `<text x="${x0 - 4}" y="${yAt(v) + 4}" text-anchor="end">${Math.round(v)}</text>`,
      );
    }
    categories.forEach((c, i) => {
      if (i % labelStep !== 0) return;
      out.push(`<text x="${xAt(i)}" y="${y0 + ph + 16}" text-anchor="middle">${esc(c)}</text>`);
    });
    out.push(
      `<text x="${x0 + pw / 2}" y="${y0 + ph + 32}" text-anchor="middle">${esc(xLabel)}</text>`,
      `<text transform="translate(${x0 - 40} ${y0 + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    );
    for (const s of panel.series) {
      const color = COLORS[names.indexOf(s.name) % COLORS.length];
      const pts = s.values.map((v, i) => `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`);
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(" ")}"/>`,
        ...(dots
          ? s.values.map(
              (v, i) =>
                `<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="3" fill="${color}"/>`,
            )
          : []),
      );
    }
  });
  names.forEach((n, i) => {
    const y = 30 + H + 10 + 18 * i;
    const color = COLORS[i % COLORS.length];
    out.push(
      `<rect x="${PAD.left}" y="${y - 9}" width="14" height="10" fill="${color}"/>`,
      `<text x="${PAD.left + 20}" y="${y}">${esc(n)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
