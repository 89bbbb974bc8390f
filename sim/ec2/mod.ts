/**
 * A stateful, seeded simulation of one EC2 account in EC2's own terms (subnets,
 * instances, ENIs, attachments, throttling, faults, latency), and the pool's EC2
 * port over it. It backs `plan`, `replay`, the simulated cloud and the tests.
 *
 * @module
 */
export { combinationError, Ec2SimError, invalidValueError, missingParameterError } from "./error.ts";
export { checkMaxResults } from "./filters.ts";
export { DRY_RUN_ACTIONS, Ec2IamPolicy, SIMULATED_ROLE_NAME } from "./iam.ts";
export { sampleLatencyMs, SeededRandom } from "./random.ts";
export { callSimulated, SimEc2Port, sleepOnManualClock } from "./sim_ec2_port.ts";
export { Ec2Simulation, type LatencyModel } from "./simulation.ts";
export type { Ec2SimState } from "./snapshot.ts";
export {} from "./throttle.ts";
export type {
  AttachmentView,
  Ec2Action,
  Ec2Filters,
  Ec2Tag,
  InstanceTypeView,
  InstanceView,
  LaunchInstanceResult,
  NetworkInterfaceView,
  ReservationView,
  SubnetView,
} from "./types.ts";
