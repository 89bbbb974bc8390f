/**
 * The engine behind `aws-cni plan`: one simulated node, moved through pod counts.
 *
 * @module
 */
import type { InstanceLimits, PoolSettings } from "../../ipamd/pool/mod.ts";
import { type NodeView, SimulatedNode } from "./simulated_node.ts";

/** One row of a plan: the settled pool at one pod count. */
export interface PlanRow extends Omit<NodeView, "prefixesPerEni"> {
  /** Only with prefix delegation. */
  readonly prefixesPerEni?: readonly number[];
}

/** What to simulate. */
export interface PlanSimulation {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly pods: readonly number[];
  /** Free addresses other nodes leave in the subnet (default: a /18's worth). */
  readonly subnetFree?: number | undefined;
}

/** Starts a fresh node and returns the settled pool at each listed pod count, in order. */
export async function simulatePlan(request: PlanSimulation): Promise<PlanRow[]> {
  const node = await SimulatedNode.start(request);
  await node.settle();
  const rows: PlanRow[] = [];
  for (const count of request.pods) {
    await node.scaleTo(count);
    const { prefixesPerEni, ...view } = await node.view();
    rows.push(request.settings.prefixDelegation ? { ...view, prefixesPerEni } : view);
  }
  return rows;
}
