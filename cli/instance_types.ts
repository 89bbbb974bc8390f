/**
 * Instance types as a person types them: the built-in table's lookup, and for a
 * name it does not list, the close names it does (`did you mean "m5.large"?`).
 *
 * @module
 */
import {
  type InstanceTypeInfo,
  instanceTypeNames,
  lookupInstanceType,
  UnknownInstanceTypeError,
} from "../ipamd/limits/mod.ts";
import { editDistance } from "./edit_distance.ts";

const MAX_SUGGESTIONS = 3;

/**
 * `lookupInstanceType()`, with up to 3 close names in the error for a type the table does not list.
 *
 * @throws {UnknownInstanceTypeError} When the table does not list `name`.
 */
export function lookupTypedInstanceType(name: string): InstanceTypeInfo {
  try {
    return lookupInstanceType(name);
  } catch (error) {
    if (!(error instanceof UnknownInstanceTypeError)) throw error;
    const quoted = suggestInstanceTypes(name, instanceTypeNames()).map((type) => JSON.stringify(type));
    const last = quoted.pop();
    const names = quoted.length > 0 ? `${quoted.join(", ")} or ${last}` : last;
    throw new UnknownInstanceTypeError(name, last === undefined ? "" : `: did you mean ${names}?`, {
      cause: error,
    });
  }
}

/**
 * The names at the smallest edit distance (at most about a third of the name's
 * length); failing that, the closest names of the same family (`t3` in `t3.small`).
 * Ties go to the longer shared prefix, then to name order.
 */
export function suggestInstanceTypes(name: string, names: readonly string[]): string[] {
  const wanted = name.trim().toLowerCase();
  const maxDistance = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  const scored = names.map((candidate) => ({
    candidate,
    distance: editDistance(wanted, candidate),
    shared: sharedPrefixLength(wanted, candidate),
  }));
  const best = Math.min(...scored.map(({ distance }) => distance));
  const family = familyOf(wanted);
  const picked = best <= maxDistance
    ? scored.filter(({ distance }) => distance === best)
    : scored.filter(({ candidate }) => familyOf(candidate) === family);
  return picked
    .sort((a, b) => a.distance - b.distance || b.shared - a.shared)
    .slice(0, MAX_SUGGESTIONS)
    .map(({ candidate }) => candidate);
}

function sharedPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length++;
  return length;
}

function familyOf(name: string): string {
  const dot = name.indexOf(".");
  return dot === -1 ? name : name.slice(0, dot);
}
