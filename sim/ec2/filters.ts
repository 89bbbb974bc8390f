/**
 * EC2 describe filters (names ANDed, values ORed, `*`/`?` wildcards, tag-key and
 * tag:<key> on any tagged resource) and opaque NextToken pagination.
 *
 * @module
 */

import { Ec2SimError, invalidValueError, missingParameterError } from "./error.ts";
import type { Ec2Filters } from "./types.ts";

/** Per filter name, the values an item offers to it. */
export type FilterFields<T> = Readonly<Record<string, (item: T) => readonly string[]>>;

/** A filterable resource: its own fields plus its tags. */
export interface FilterTarget<T> {
  readonly fields: FilterFields<T>;
  readonly tags: (item: T) => ReadonlyMap<string, string>;
}

/** Rejects unknown filter names and empty value lists, as EC2 does before looking at any item. */
export function checkFilters<T>(filters: Ec2Filters | undefined, target: FilterTarget<T>): void {
  for (const [name, values] of Object.entries(filters ?? {})) {
    const known = name === "tag-key" || name === "tag-value" || name.startsWith("tag:") ||
      Object.hasOwn(target.fields, name);
    if (!known) throw invalidValueError(`The filter '${name}' is invalid`);
    if (values.length === 0) throw missingParameterError(`Filter.Value for filter '${name}'`);
  }
}

/** Whether `item` passes every filter. */
export function matchesFilters<T>(
  item: T,
  filters: Ec2Filters | undefined,
  target: FilterTarget<T>,
): boolean {
  for (const [name, patterns] of Object.entries(filters ?? {})) {
    if (!patterns.some((pattern) => offered(item, name, target).some((v) => wildcardMatch(pattern, v)))) {
      return false;
    }
  }
  return true;
}

function offered<T>(item: T, name: string, target: FilterTarget<T>): readonly string[] {
  const tags = target.tags(item);
  if (name === "tag-key") return [...tags.keys()];
  if (name === "tag-value") return [...tags.values()];
  if (name.startsWith("tag:")) {
    const value = tags.get(name.slice("tag:".length));
    return value === undefined ? [] : [value];
  }
  return target.fields[name]?.(item) ?? [];
}

/** EC2's filter wildcards: `*` any run of characters, `?` one character, `\` escapes. */
export function wildcardMatch(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`).test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Checks MaxResults against EC2's bounds for paginated describes. */
export function checkMaxResults(maxResults: number | undefined, min: number, max: number): void {
  if (maxResults === undefined) return;
  if (!Number.isSafeInteger(maxResults) || maxResults < min || maxResults > max) {
    throw invalidValueError(
      `Value (${maxResults}) for parameter maxResults is invalid. Expecting a value between ${min} and ${max}`,
    );
  }
}

/** An opaque NextToken that resumes after the item with sequence number `seq`. */
export function encodeNextToken(seq: number): string {
  return btoa(`ec2-sim-page:${seq}`).replace(/=+$/, "");
}

/** The sequence number a NextToken resumes after, or InvalidPaginationToken. */
export function decodeNextToken(token: string): number {
  let text = "";
  try {
    text = atob(token.padEnd(Math.ceil(token.length / 4) * 4, "="));
  } catch {
    // Not base64: fall through to the error below.
  }
  const match = /^ec2-sim-page:(\d+)$/.exec(text);
  if (match === null) {
    throw new Ec2SimError("InvalidPaginationToken", `The specified pagination token is not valid: ${token}`);
  }
  return Number(match[1]);
}
