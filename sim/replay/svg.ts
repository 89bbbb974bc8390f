/**
 * The replay's timeline as a small hand-written SVG: pods, assigned, free and
 * cooling addresses (all nodes together) over time, with EC2 calls as bars along
 * the bottom.
 *
 * @module
 */
import type { ReplaySample } from "./engine.ts";

const WIDTH = 900;
const HEIGHT = 420;
const LEFT = 56;
const RIGHT = 150;
const TOP = 36;
const CALL_BAND = 60;
const BOTTOM = 40;

const SERIES = [
  { key: "pods", label: "pods", color: "#1f77b4" },
  { key: "assigned", label: "assigned", color: "#2ca02c" },
  { key: "free", label: "free", color: "#ff7f0e" },
  { key: "cooling", label: "cooling", color: "#9467bd" },
] as const;

/** Renders samples as an SVG document. */
export function renderSvg(samples: readonly ReplaySample[], title: string): string {
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM - CALL_BAND;
  const endMs = Math.max(1, ...samples.map((s) => s.tMs));
  const top = niceCeil(Math.max(1, ...samples.flatMap((s) => [s.pods, s.assigned, s.free, s.cooling])));
  const x = (tMs: number) => LEFT + (tMs / endMs) * plotW;
  const y = (value: number) => TOP + plotH - (value / top) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (top * i) / 4;
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${fix(y(value))}" y2="${fix(y(value))}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${fix(y(value) + 4)}" text-anchor="end">${round(value)}</text>`,
    );
  }
  const step = niceCeil(endMs / 1000 / 8);
  for (let s = 0; s * 1000 <= endMs; s += step) {
    const px = fix(x(s * 1000));
    out.push(
      `<line x1="${px}" x2="${px}" y1="${TOP}" y2="${TOP + plotH + CALL_BAND}" stroke="#eee"/>`,
      `<text x="${px}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle">${s} s</text>`,
    );
  }
  for (const series of SERIES) {
    const points = samples.map((s) => `${fix(x(s.tMs))},${fix(y(s[series.key]))}`).join(" ");
    out.push(`<polyline fill="none" stroke="${series.color}" stroke-width="1.5" points="${points}"/>`);
  }
  const bandTop = TOP + plotH + 8;
  const bandH = CALL_BAND - 12;
  const maxCalls = Math.max(1, ...samples.map((s) => s.calls));
  const barW = Math.max(1, plotW / Math.max(samples.length, 1));
  out.push(`<text x="${LEFT - 6}" y="${bandTop + 10}" text-anchor="end">EC2</text>`);
  for (const s of samples) {
    if (s.calls === 0) continue;
    const h = Math.max(1, (s.calls / maxCalls) * bandH);
    out.push(
      `<rect x="${fix(x(s.tMs) - barW / 2)}" y="${fix(bandTop + bandH - h)}" width="${fix(barW)}" height="${
        fix(h)
      }" fill="#d62728"><title>${s.calls} EC2 calls at ${round(s.tMs / 1000)} s</title></rect>`,
    );
  }
  out.push(`<text x="${LEFT - 6}" y="${bandTop + bandH}" text-anchor="end">${maxCalls}/s</text>`);
  const legend = [...SERIES, { label: "EC2 calls", color: "#d62728" }];
  legend.forEach((entry, i) => {
    const ly = TOP + 14 + i * 18;
    out.push(
      `<rect x="${LEFT + plotW + 16}" y="${ly - 9}" width="12" height="12" fill="${entry.color}"/>`,
      `<text x="${LEFT + plotW + 34}" y="${ly + 1}">${entry.label}</text>`,
    );
  });
  out.push(`</svg>`, "");
  return out.join("\n");
}

function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

function fix(value: number): string {
  return value.toFixed(1);
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
