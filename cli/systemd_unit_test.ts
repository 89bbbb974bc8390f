import { equal, match, ok } from "node:assert/strict";
import { IPAMD_ENV_TABLE, parseIpamdConfig } from "../ipamd/config/mod.ts";
import { NODE_PATHS, renderEnvTemplate, renderUnit } from "./systemd_unit.ts";
import { MALLOC_ENV } from "../shared/runtime_tuning.ts";

Deno.test("renderEnvTemplate() lists every setting of IPAMD_ENV_TABLE with its default, commented", () => {
  const text = renderEnvTemplate();
  for (const row of IPAMD_ENV_TABLE) {
    const line = `#${row.name}=${row.default}`;
    equal(text.split("\n").filter((l) => l === line).length, 1, `${line} appears once`);
    ok(text.includes(`# ${row.name}: `), `${row.name} is described`);
  }
  ok(text.split("\n").every((line) => line === "" || line.startsWith("#")), "nothing is set");
});

Deno.test("renderEnvTemplate()'s defaults, uncommented, parse to the default config", () => {
  const env = Object.fromEntries(
    renderEnvTemplate().split("\n").filter((l) => /^#[A-Z][A-Za-z0-9_]*=/.test(l)).map((l) => {
      const [name, ...value] = l.slice(1).split("=");
      return [name!, value.join("=")];
    }),
  );
  equal(Object.keys(env).length, IPAMD_ENV_TABLE.length);
  const parsed = parseIpamdConfig(env);
  const defaults = parseIpamdConfig({});
  equal(JSON.stringify(parsed), JSON.stringify(defaults));
});

Deno.test("renderUnit() starts ipamd as a notify service that writes the conflist, sandboxed", () => {
  const unit = renderUnit();
  for (
    const directive of [
      "Type=notify",
      "NotifyAccess=all",
      `ExecStart=${NODE_PATHS.binary} --daemon --write-conflist ${NODE_PATHS.conflistDir}`,
      `EnvironmentFile=-${NODE_PATHS.envFile}`,
      "Restart=always",
      "RuntimeDirectory=aws-node",
      "RuntimeDirectoryPreserve=yes",
      "LogsDirectory=aws-routed-eni",
      `ReadWritePaths=-${NODE_PATHS.conflistDir}`,
      "ReadWritePaths=-/run/xtables.lock",
      "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
      "SystemCallArchitectures=native",
      "WantedBy=multi-user.target",
    ]
  ) {
    ok(unit.split("\n").includes(directive), `unit has ${directive}`);
  }
  match(unit, /^Before=kubelet\.service$/m);
  ok(!/^ProtectKernelTunables=yes/m.test(unit), "ipamd writes net sysctls");
  ok(!/^MemoryDenyWriteExecute=yes/m.test(unit), "V8 needs W+X memory");
});

Deno.test("renderUnit() sets the malloc settings of shared/runtime_tuning.ts in the service's environment", () => {
  const lines = renderUnit().split("\n");
  const environment = lines.filter((line) => line.startsWith("Environment="));
  equal(environment.length, 1);
  const set = Object.fromEntries(
    environment[0]!.slice("Environment=".length).split(" ").map((pair) => {
      const [name, value] = pair.split("=");
      return [name!, value!];
    }),
  );
  equal(JSON.stringify(set), JSON.stringify(MALLOC_ENV));
  ok(Object.keys(MALLOC_ENV).length > 0, "there are malloc settings");
});
