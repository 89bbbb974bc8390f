/**
 * Nodes in simulated time: the daemon's own datastore and reconciler on a simulated
 * instance, as `plan` and the property tests run them.
 *
 * @module
 */
export { openSimulatedNode, SIMULATED_CREDENTIALS, type SimulatedInstance } from "./daemon_node.ts";
export { type PlanRow, simulatePlan } from "./plan_run.ts";
export { SimLinkPort } from "./sim_link_port.ts";
export { createSimLink, deleteSimLink, SIM_LINK_ALIAS, simLinkName } from "./sim_links.ts";
