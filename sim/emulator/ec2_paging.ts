/**
 * MaxResults/NextToken pages for the describe actions the simulation answers in
 * one piece (instances, subnets, instance types): the emulator slices the full
 * answer, with an opaque token holding the offset.
 *
 * @module
 */

import { checkMaxResults, Ec2SimError } from "../ec2/mod.ts";

/** One page and the token of the next (absent on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken?: string;
}

/** Which page of an action's answer a call asks for; MaxResults must lie from `min` to `max`. */
export interface PageRequest {
  readonly action: string;
  readonly maxResults?: number;
  readonly nextToken?: string;
  readonly min: number;
  readonly max: number;
}

/** The page of `items` that `paging` asks for. */
export function page<T>(items: readonly T[], paging: PageRequest): Page<T> {
  const { action } = paging;
  checkMaxResults(paging.maxResults, paging.min, paging.max);
  const offset = paging.nextToken === undefined ? 0 : decodeToken(action, paging.nextToken);
  if (paging.maxResults === undefined && offset === 0) return { items };
  const end = paging.maxResults === undefined ? items.length : offset + paging.maxResults;
  const slice = items.slice(offset, end);
  return end < items.length ? { items: slice, nextToken: encodeToken(action, end) } : { items: slice };
}

function encodeToken(action: string, offset: number): string {
  return btoa(`ec2-emu-page:${action}:${offset}`).replace(/=+$/, "");
}

function decodeToken(action: string, token: string): number {
  let text = "";
  try {
    text = atob(token.padEnd(Math.ceil(token.length / 4) * 4, "="));
  } catch {
    // Not base64: reported below.
  }
  const match = /^ec2-emu-page:([A-Za-z]+):(\d+)$/.exec(text);
  if (match === null || match[1] !== action) {
    throw new Ec2SimError("InvalidPaginationToken", `The specified pagination token is not valid: ${token}`);
  }
  return Number(match[2]);
}
