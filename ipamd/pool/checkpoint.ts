/**
 * The crash-safe record of which pod holds which address, in the reference's
 * `vpc-cni-ipam/1` format (so a file written by the reference loads unchanged),
 * plus a `cooldowns` field the reference ignores.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { AllocationRecord, CoolingEntry, Datastore, RestoreResult } from "./datastore.ts";

/** The format version the reference writes and accepts. */
export const CHECKPOINT_VERSION = "vpc-cni-ipam/1";

/** What a checkpoint holds. */
export interface CheckpointData {
  readonly allocations: readonly AllocationRecord[];
  readonly cooldowns: readonly CoolingEntry[];
}

/** Where the checkpoint lives. */
export interface CheckpointStore {
  /** The last saved data, or null when none was ever saved (a fresh node). */
  load(): Promise<CheckpointData | null>;
  /** Replaces the saved data atomically; rejects when it could not be made durable. */
  save(data: CheckpointData): Promise<void>;
}

/** A checkpoint that exists but cannot be used; the daemon must not start over it. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  /** The file (or store) that was read. */
  readonly path: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(
      `Cannot load checkpoint "${path}": ${problem}; the file was kept as it is. It says which pod holds ` +
        `which address, so starting without it could give a running pod's address to another: drain the ` +
        `node's pods, move the file aside (mv "${path}" "${path}.bad") and restart ipamd ` +
        `(systemctl restart aws-ipamd)`,
      options,
    );
    this.path = path;
  }
}

/** A checkpoint that could not be written (read-only or full disk, …). */
export class CheckpointWriteError extends Error {
  override readonly name = "CheckpointWriteError";
  /** The file that was to be written. */
  readonly path: string;

  constructor(path: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`Cannot write checkpoint "${path}": ${reason}`, options);
    this.path = path;
  }
}

const NANOS_PER_MS = 1_000_000;

/** Serializes checkpoint data as JSON text; timestamps become integer unix nanoseconds. */
export function formatCheckpoint(data: CheckpointData): string {
  const allocations = data.allocations.map((a) => ({
    networkName: a.key.networkName,
    containerID: a.key.containerId,
    ifName: a.key.ifName,
    ipv4: a.ip,
    allocationTimestamp: toNanos(a.assignedAtMs),
    metadata: { k8sPodNamespace: a.meta.podNamespace, k8sPodName: a.meta.podName, interfacesCount: 1 },
  }));
  const cooldowns = data.cooldowns.map((c) => ({ ipv4: c.ip, releasedAt: toNanos(c.sinceMs) }));
  return `${JSON.stringify({ version: CHECKPOINT_VERSION, allocations, cooldowns })}\n`;
}

/**
 * Parses checkpoint text, as tolerant as the reference's Go decoder: fields it leaves out
 * read as empty, unknown fields are ignored. Throws a `CheckpointError` naming `path`.
 */
export function parseCheckpoint(text: string, path: string): CheckpointData {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    const problem = text.trim() === "" ? "it is empty" : `it is not valid JSON (truncated or corrupt)`;
    throw new CheckpointError(path, problem, { cause: error });
  }
  const top = objectAt(root, "the top level", path);
  if (top.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      path,
      `"version" is ${JSON.stringify(top.version) ?? "missing"}, expected "${CHECKPOINT_VERSION}"`,
    );
  }
  const allocations = arrayAt(top.allocations, "allocations", path).map((item, i) => {
    const where = `allocations[${i}]`;
    const entry = objectAt(item, where, path);
    const metadata = entry.metadata === undefined || entry.metadata === null
      ? {}
      : objectAt(entry.metadata, `${where}.metadata`, path);
    return {
      key: {
        networkName: stringAt(entry, "networkName", where, path),
        containerId: stringAt(entry, "containerID", where, path),
        ifName: stringAt(entry, "ifName", where, path),
      },
      meta: {
        podNamespace: stringAt(metadata, "k8sPodNamespace", `${where}.metadata`, path),
        podName: stringAt(metadata, "k8sPodName", `${where}.metadata`, path),
      },
      ip: stringAt(entry, "ipv4", where, path),
      assignedAtMs: nanosAt(entry, "allocationTimestamp", where, path),
    };
  });
  const cooldowns = arrayAt(top.cooldowns, "cooldowns", path).map((item, i) => {
    const entry = objectAt(item, `cooldowns[${i}]`, path);
    return {
      ip: stringAt(entry, "ipv4", `cooldowns[${i}]`, path),
      sinceMs: nanosAt(entry, "releasedAt", `cooldowns[${i}]`, path),
    };
  });
  return { allocations, cooldowns };
}

/**
 * A checkpoint file. `save` writes a temporary file beside it, fsyncs it, renames it over the
 * target and fsyncs the directory; saves run one at a time in call order. Any failure rejects
 * with a `CheckpointWriteError` (a failed directory fsync after the rename leaves the new file in
 * place). `load` never changes the file.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly #path: string;
  #tail: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  get path(): string {
    return this.#path;
  }

  async load(): Promise<CheckpointData | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.#path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      throw new CheckpointError(this.#path, "it is not UTF-8 text (corrupt)", { cause: error });
    }
    return parseCheckpoint(text, this.#path);
  }

  save(data: CheckpointData): Promise<void> {
    const bytes = new TextEncoder().encode(formatCheckpoint(data));
    const write = this.#tail.then(() => this.#write(bytes)).catch((cause) => {
      throw new CheckpointWriteError(this.#path, { cause });
    });
    this.#tail = write.catch(() => {});
    return write;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    const dir = dirname(this.#path);
    const temp = await Deno.makeTempFile({ dir, prefix: `${basename(this.#path)}.`, suffix: ".tmp" });
    try {
      using file = await Deno.open(temp, { write: true, truncate: true });
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
      await file.sync();
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    try {
      await Deno.rename(temp, this.#path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    using dirFile = await Deno.open(dir, { read: true });
    await dirFile.sync();
  }
}

/** The datastore's allocations and running cooldowns at `nowMs`. */
export function checkpointFromDatastore(ds: Datastore, nowMs: number): CheckpointData {
  const allocations = ds.allocations().map(({ key, meta, ip, assignedAtMs }) => ({
    key,
    meta,
    ip,
    assignedAtMs,
  }));
  return { allocations, cooldowns: ds.coolingEntries(nowMs) };
}

/**
 * Puts checkpointed allocations and cooldowns back into a datastore that already holds the
 * node's ENIs and CIDRs. The result lists what was dropped and why, for the log.
 */
export function restoreFromCheckpoint(ds: Datastore, data: CheckpointData, nowMs: number): RestoreResult {
  const result = ds.restore(data.allocations, nowMs);
  ds.restoreCooling(data.cooldowns);
  return result;
}

function toNanos(ms: number): number {
  return Math.round(ms) * NANOS_PER_MS;
}

type JsonObject = Record<string, unknown>;

function objectAt(value: unknown, where: string, path: string): JsonObject {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JsonObject;
  throw new CheckpointError(path, `${where} is ${typeName(value)}, expected an object`);
}

function arrayAt(value: unknown, where: string, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  throw new CheckpointError(path, `"${where}" is ${typeName(value)}, expected an array`);
}

function stringAt(entry: JsonObject, field: string, where: string, path: string): string {
  const value = entry[field];
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  throw new CheckpointError(path, `${where}.${field} is ${typeName(value)}, expected a string`);
}

/** Unix nanoseconds as milliseconds; they exceed 2^53, so they are read rounded to the millisecond. */
function nanosAt(entry: JsonObject, field: string, where: string, path: string): number {
  const value = entry[field];
  if (value === undefined || value === null) return 0;
  if (typeof value === "number" && Number.isFinite(value)) return Math.round(value / NANOS_PER_MS);
  throw new CheckpointError(path, `${where}.${field} is ${typeName(value)}, expected a number`);
}

function typeName(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
