import { equal, match } from "node:assert/strict";
import { renderSvg } from "./svg.ts";

Deno.test("renderSvg() draws four series, EC2 call bars and escapes the title", () => {
  const samples = [0, 1, 2].map((i) => ({
    tMs: i * 1000,
    pods: i,
    assigned: i,
    free: 3 - i,
    cooling: 0,
    calls: i === 1 ? 4 : 0,
  }));
  const svg = renderSvg(samples, "a <b> & c");
  equal(svg.match(/<polyline/g)?.length, 4);
  equal(
    svg.match(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" fill="#d62728"><title>/g)?.length,
    1,
  );
  match(svg, /a &lt;b&gt; &amp; c/);
  match(svg, /<\/svg>\n$/);
});
