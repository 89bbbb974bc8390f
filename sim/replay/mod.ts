/**
 * `replay`: many nodes on one throttled, simulated account in simulated time, our
 * pool against a faithful model of the reference, and the report and plot.
 *
 * @module
 */
export { DEFAULT_TIMING, parseLatencyModel, type TimingModel } from "./account.ts";
export { type ReplayOptions, runReplay } from "./engine.ts";
export { progressBar } from "./progress.ts";
export { buildReport, renderReport } from "./report.ts";
export { parseTrace, scenario, type ScenarioName, SCENARIOS, type Workload } from "./scenarios.ts";
export { renderSvg } from "./svg.ts";
