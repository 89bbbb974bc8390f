/** The plugin's ADD deadline sits above ipamd's longest ADD wait and within kubelet's 2 minutes. */
import { equal, ok, throws } from "node:assert/strict";
import { IPAMD_DEADLINES } from "../cni/mod.ts";
import { ADD_WAIT_MAX_S, ConfigError, parseIpamdConfig } from "../ipamd/config/mod.ts";

Deno.test("the plugin waits longer for an ADD than ipamd may, and less than kubelet's runtime timeout", () => {
  const longest = parseIpamdConfig({ ADD_WAIT_TIMEOUT: String(ADD_WAIT_MAX_S) });
  equal(longest.addWaitTimeoutMs, ADD_WAIT_MAX_S * 1000);
  throws(() => parseIpamdConfig({ ADD_WAIT_TIMEOUT: String(ADD_WAIT_MAX_S + 1) }), ConfigError);
  equal(parseIpamdConfig({}).addWaitTimeoutMs, 60_000, "the default is the longest wait");
  ok(IPAMD_DEADLINES.addMs > longest.addWaitTimeoutMs, "ipamd's reason arrives before the deadline");
  ok(IPAMD_DEADLINES.addMs < 120_000, "kubelet's runtime request timeout is 2 minutes");
});
