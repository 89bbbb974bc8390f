/**
 * Nodes in simulated time: the daemon's own datastore and reconciler on a simulated
 * instance, as `plan` and the property tests run them.
 *
 * @module
 */
export { type PlanRow, simulatePlan } from "./plan_run.ts";
