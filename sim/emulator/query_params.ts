/**
 * EC2 Query-protocol request parameters (`Action=…&Version=…&Name.1=…`), read the
 * way EC2 reads them: flattened lists with 1-based indices, `Filter.N.Name` with
 * `Filter.N.Value.M`, `Tag.N.Key`/`Tag.N.Value`. Every read marks the parameter as
 * used, so a handler can reject the ones it does not understand. Bad values fail
 * with EC2's own error codes (`Ec2SimError`).
 *
 * @module
 */

import {
  type Ec2Filters,
  Ec2SimError,
  type Ec2Tag,
  invalidValueError,
  missingParameterError,
} from "../ec2/mod.ts";

/** The parameters of one request. */
export class QueryParams {
  readonly #values = new Map<string, string>();
  readonly #used = new Set<string>();

  /** Parameters from form-encoded text (a POST body or a URL query); the first of repeated names wins. */
  constructor(...sources: readonly string[]) {
    for (const source of sources) {
      for (const [name, value] of new URLSearchParams(source)) {
        if (!this.#values.has(name)) this.#values.set(name, value);
      }
    }
  }

  /** A parameter's value, or undefined when absent. */
  string(name: string): string | undefined {
    this.#used.add(name);
    return this.#values.get(name);
  }

  /** A parameter that must be present (MissingParameter otherwise). */
  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw missingParameterError(name);
    return value;
  }

  /** A whole-number parameter (InvalidParameterValue when it is not one). */
  integer(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw invalidValueError(`Value (${text}) for parameter ${name} is invalid. Expected an integer`);
    }
    return Number(text);
  }

  /** A boolean parameter: `true` or `false`, any case. */
  boolean(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const lower = text.toLowerCase();
    if (lower !== "true" && lower !== "false") {
      throw invalidValueError(`Value (${text}) for parameter ${name} is invalid. Expected true or false`);
    }
    return lower === "true";
  }

  /** The indices N present as `prefix.N` or `prefix.N.<field>`, ascending. */
  indices(prefix: string): number[] {
    const found = new Set<number>();
    const pattern = new RegExp(`^${escapeRegExp(prefix)}\\.(\\d+)(?:\\.|$)`);
    for (const name of this.#values.keys()) {
      const match = pattern.exec(name);
      if (match === null) continue;
      const index = Number(match[1]);
      if (index < 1) throw invalidValueError(`Parameter ${name} has an invalid index; indices start at 1`);
      found.add(index);
    }
    return [...found].sort((a, b) => a - b);
  }

  /** The values of a flattened list `prefix.1`, `prefix.2`, …, or undefined when none is given. */
  list(prefix: string): string[] | undefined {
    const indices = this.indices(prefix);
    if (indices.length === 0) return undefined;
    return indices.map((index) => this.required(`${prefix}.${index}`));
  }

  /** `Filter.N.Name` / `Filter.N.Value.M` as filters by name, or undefined when none is given. */
  filters(prefix = "Filter"): Ec2Filters | undefined {
    const indices = this.indices(prefix);
    if (indices.length === 0) return undefined;
    const filters: Record<string, string[]> = {};
    for (const index of indices) {
      const name = this.required(`${prefix}.${index}.Name`);
      const values = this.list(`${prefix}.${index}.Value`) ?? [];
      filters[name] = [...(filters[name] ?? []), ...values];
    }
    return filters;
  }

  /** `prefix.N.Key` / `prefix.N.Value` as tags (a missing value is the empty string). */
  tags(prefix: string): Ec2Tag[] {
    return this.indices(prefix).map((index) => ({
      key: this.required(`${prefix}.${index}.Key`),
      value: this.string(`${prefix}.${index}.Value`) ?? "",
    }));
  }

  /** Marks parameters as understood without reading them (e.g. `DryRun`, `ClientToken`). */
  accept(...names: readonly string[]): void {
    for (const name of names) this.#used.add(name);
  }

  /** Rejects the request if it carries a parameter no read looked at. */
  rejectUnused(): void {
    for (const name of this.#values.keys()) {
      if (!this.#used.has(name)) {
        throw new Ec2SimError(
          "UnknownParameter",
          `The parameter ${name} is not recognized (or not supported by this EC2 emulator)`,
        );
      }
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
