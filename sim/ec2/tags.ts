/**
 * CreateTags on the simulation's ENIs, instances and subnets: every resource must
 * exist before any is tagged. Internal to the ec2_sim files.
 *
 * @module
 */

import { Ec2SimError, missingParameterError } from "./error.ts";
import { checkTags } from "./eni_ops.ts";
import type { CreateTagsRequest } from "./requests.ts";
import type { SimState } from "./state.ts";

/** CreateTags: adds or overwrites tags on every listed resource. */
export function createTags(state: SimState, request: CreateTagsRequest): void {
  if (request.resources.length === 0) throw missingParameterError("ResourceId");
  if (request.tags.length === 0) throw missingParameterError("Tag");
  const tags = checkTags(request.tags);
  const targets = request.resources.map((id) => tagsOf(state, id));
  for (const target of targets) {
    for (const tag of tags) target.set(tag.key, tag.value);
  }
}

function tagsOf(state: SimState, resourceId: string): Map<string, string> {
  if (resourceId.startsWith("eni-")) return state.eni(resourceId).tags;
  if (resourceId.startsWith("i-")) return state.instance(resourceId).tags;
  if (resourceId.startsWith("subnet-")) return state.subnet(resourceId).tags;
  throw new Ec2SimError("InvalidID", `The ID '${resourceId}' is not valid`);
}
