/**
 * Determinism for the simulation: a seeded random stream, latency models drawn
 * from it, and EC2-format ids derived from the seed and per-kind counters (so
 * enabling a fault or drawing a latency never changes the ids that follow).
 *
 * @module
 */

/** One mulberry32 step: the state after `state` and a number in [0, 1). */
function mulberry32Step(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(next ^ (next >>> 15), 1 | next);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return [next, ((t ^ (t >>> 14)) >>> 0) / 4294967296];
}

/** A plain mulberry32 stream of numbers in [0, 1) from `seed`, so a seeded case replays exactly. */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    let value: number;
    [state, value] = mulberry32Step(state);
    return value;
  };
}

/** A seeded pseudo-random stream (mulberry32), independent per `stream` name. */
export class SeededRandom {
  #state: number;

  constructor(seed: number, stream: string) {
    this.#state = hashWords([...seedWords(seed), hashText(stream)]);
  }

  /** A number in [0, 1). */
  next(): number {
    let value: number;
    [this.#state, value] = mulberry32Step(this.#state);
    return value;
  }

  /** Where the stream stands; `seek()` returns to it. */
  get position(): number {
    return this.#state;
  }

  /** Continues the stream from a `position` read earlier. */
  seek(position: number): void {
    if (!Number.isSafeInteger(position) || position < -(2 ** 31) || position >= 2 ** 32) {
      throw new RangeError(`Cannot seek a random stream to ${position}: expected a 32-bit integer`);
    }
    this.#state = position;
  }
}

/** How long an attach or detach takes to complete. */
export type LatencyModel =
  | { readonly kind: "fixed"; readonly ms: number }
  | { readonly kind: "uniform"; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: "lognormal"; readonly medianMs: number; readonly sigma: number; readonly maxMs: number };

/** Attach: median about 2.5 s, p99 about 15 s, capped at 120 s (as measured and reported by EC2 users). */
export const DEFAULT_ATTACH_LATENCY: LatencyModel = {
  kind: "lognormal",
  medianMs: 2500,
  sigma: 0.77,
  maxMs: 120_000,
};

/** Detach: 2 to 3 s before the ENI is `available` again (vpc-cni#608). */
export const DEFAULT_DETACH_LATENCY: LatencyModel = { kind: "uniform", minMs: 2000, maxMs: 3000 };

/** Draws one latency in whole milliseconds. */
export function sampleLatencyMs(model: LatencyModel, random: SeededRandom): number {
  switch (model.kind) {
    case "fixed":
      return Math.max(0, Math.round(model.ms));
    case "uniform":
      return Math.round(model.minMs + random.next() * (model.maxMs - model.minMs));
    case "lognormal": {
      // Box-Muller; 1 - next() keeps the logarithm's argument above 0.
      const normal = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      return Math.round(Math.min(model.maxMs, model.medianMs * Math.exp(model.sigma * normal)));
    }
  }
}

/** Issues unique EC2-format ids, deterministic from the seed and a counter per kind. */
export class Ec2IdFactory {
  readonly #seed: number;
  readonly #counters = new Map<string, number>();
  readonly #issued = new Set<string>();

  constructor(seed: number) {
    seedWords(seed);
    this.#seed = seed;
  }

  /**
   * A factory that continues from `counters` (see `counters()`): it re-derives the
   * ids issued so far, so the ids that follow are those the original would issue.
   */
  static restore(seed: number, counters: Readonly<Record<string, number>>): Ec2IdFactory {
    const ids = new Ec2IdFactory(seed);
    for (const [kind, count] of Object.entries(counters)) {
      if (!/^[a-z][a-z-]*$/.test(kind) || !Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`Cannot restore id counter "${kind}" at ${count}`);
      }
      if (kind !== "request") {
        for (let n = 1; n <= count; n++) ids.#issued.add(ids.#format(kind, n));
      }
      ids.#counters.set(kind, count);
    }
    return ids;
  }

  /** How many ids of each kind have been drawn (collisions skipped included). */
  counters(): Record<string, number> {
    return Object.fromEntries(this.#counters);
  }

  /** `<prefix>-0` and 16 hex digits, e.g. `eni-0a1b2c3d4e5f60718`. */
  resourceId(prefix: string): string {
    if (Object.hasOwn(FORMATS, prefix)) {
      throw new RangeError(`Cannot use "${prefix}" as a resource id prefix`);
    }
    return this.#unique(prefix);
  }

  /** A locally administered unicast MAC, `02:xx:xx:xx:xx:xx`. */
  macAddress(): string {
    return this.#unique("mac");
  }

  /** A request id in UUID form. */
  requestId(): string {
    return this.#unique("request");
  }

  /** A 12-digit account id. */
  accountId(): string {
    return this.#unique("account");
  }

  /**
   * The next id of `kind` not issued before. Request ids (about 122 random bits, one
   * per call) are not remembered, so a long run neither grows memory nor slows `restore`.
   */
  #unique(kind: string): string {
    if (kind === "request") return this.#next(kind);
    for (;;) {
      const id = this.#next(kind);
      if (!this.#issued.has(id)) {
        this.#issued.add(id);
        return id;
      }
    }
  }

  #next(kind: string): string {
    const count = (this.#counters.get(kind) ?? 0) + 1;
    this.#counters.set(kind, count);
    return this.#format(kind, count);
  }

  /** The `count`th id of `kind`: a special format, or a resource id with `kind` as its prefix. */
  #format(kind: string, count: number): string {
    const base = [...seedWords(this.#seed), hashText(kind), count];
    const words = [0, 1, 2, 3].map((part) => hashWords([...base, part]));
    const format = Object.hasOwn(FORMATS, kind) ? FORMATS[kind as keyof typeof FORMATS] : undefined;
    return format === undefined ? `${kind}-0${hex(words).slice(0, 16)}` : format(words);
  }
}

/** The id kinds that are not resource ids, and how each is written. */
const FORMATS = {
  mac: (words: readonly number[]) => `02${hex(words).slice(0, 10).replace(/(..)/g, ":$1")}`,
  request: (words: readonly number[]) => {
    const h = hex(words);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  },
  account: (words: readonly number[]) => String(100_000_000_000 + (words[0]! % 800_000) * 1_000_000),
} as const;

function hex(words: readonly number[]): string {
  return words.map((word) => word.toString(16).padStart(8, "0")).join("");
}

function seedWords(seed: number): number[] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Cannot seed a simulation with ${seed}`);
  const magnitude = Math.abs(seed);
  return [magnitude >>> 0, Math.floor(magnitude / 4294967296) >>> 0, seed < 0 ? 1 : 0];
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hashWords(words: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const word of words) h = mix32(h ^ mix32(word >>> 0));
  return h;
}

function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
