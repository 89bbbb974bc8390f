/**
 * The runtime settings the binary carries for its memory, chosen by measuring
 * ipamd on a node (README, "Benchmarks"; tests/bench/ipamd_rpc_bench.ts).
 *
 * - `V8_FLAGS` are compiled into the binary (`deno compile --v8-flags`,
 *   tools/compile.sh) and passed by the launcher. They apply to every role of
 *   the one binary, the plugin included: V8 reads heap sizes only when the
 *   process starts (`node:v8` `setFlagsFromString` at the daemon's start
 *   changes nothing measurable), and a compiled binary ignores `DENO_V8_FLAGS`.
 * - `MALLOC_ENV` tunes glibc's allocator, which reads it only when the process
 *   starts, so it cannot be compiled in: the systemd unit sets it
 *   (`Environment=`), and so does the launcher. A binary started by hand
 *   without it runs with glibc's defaults and holds more memory.
 *
 * @module
 */

/** V8 flags for every role of the binary. */
export const V8_FLAGS: readonly string[] = ["--optimize-for-size"];

/** glibc malloc settings for ipamd's environment. */
export const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_TRIM_THRESHOLD_: "131072",
  MALLOC_MMAP_THRESHOLD_: "32768",
};
