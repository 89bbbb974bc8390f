/**
 * Test helpers shared by the RPC tests: temp directories and stale sockets.
 *
 * @module
 */

/** A temp directory removed (recursively) on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "aws-cni-rpc-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/**
 * Leaves a socket file nobody listens on, as a crashed daemon would: a child
 * process binds it and kills itself, so the file is never unlinked.
 */
export async function makeStaleSocket(path: string): Promise<void> {
  const code = `Deno.listen({ transport: "unix", path: ${
    JSON.stringify(path)
  } }); Deno.kill(Deno.pid, "SIGKILL");`;
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).output();
  if (success) throw new Error("The stale-socket child was expected to die by SIGKILL");
  const info = await Deno.lstat(path);
  if (!info.isSocket) throw new Error(`Expected a stale socket at "${path}"`);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Polls `predicate` every 5 ms; rejects after `timeoutMs` so a broken test fails instead of hanging. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!await predicate()) {
    if (performance.now() > giveUpAt) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Resolves or rejects like `promise`, but rejects after `timeoutMs` (clearing its timer either way). */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
