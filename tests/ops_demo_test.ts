/**
 * tools/demo.sh (`make demo`): it parses, and without root it prints the seed
 * table from `aws-cni plan` and says what it skipped. The live part (root,
 * namespaces, about 40 s) runs with `make demo`.
 */
import { equal, match, ok } from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const DEMO = `${ROOT}tools/demo.sh`;
const built = await Deno.stat(`${ROOT}dist/aws-cni`).then((s) => s.isFile, () => false);
if (!built) {
  // deno-lint-ignore no-console
  console.warn("ops_demo_test: the non-root run is skipped (needs `make build` for dist/aws-cni)");
}

async function bash(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", { args, env, cwd: ROOT }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("tools/demo.sh parses (bash -n) and is executable", async () => {
  const result = await bash(["-n", DEMO]);
  equal(result.code, 0, result.stderr);
  ok(((await Deno.stat(DEMO)).mode! & 0o111) !== 0, "demo.sh is executable");
});

Deno.test({
  name: "tools/demo.sh without root prints the seed table and explains what it skipped",
  ignore: !built,
  async fn() {
    const result = await bash([DEMO], { DEMO_NO_ROOT: "1" });
    equal(result.code, 0, result.stderr);
    const out = result.stdout;
    match(
      out,
      /^t3\.small: up to 3 ENIs with 3 secondary IPs each: 9 pod addresses; max pods 11 \(9 \+ 2 host-network pods\)$/m,
    );
    match(out, /^\| t3\.small +\| 1 +\| - +\| - +\| 5 +\| 3 +\| 9 +\| 4 +\| 3,3,3 +\| 0 +\|$/m);
    match(out, /^\| t3\.small +\| - +\| 2 +\| 5 +\| 0 +\| 2 +\| 5 +\| 5 +\| 3,2 +\| 0 +\|$/m);
    match(out, /^\| p3dn\.24xlarge +\| 1 +\| - +\| - +\| 95 +\| 3 +\| 147 +\| 52 +\| 49,49,49 +\| 0 +\|$/m);
    match(out, /^\| p3dn\.24xlarge +\| - +\| 5 +\| 10 +\| 45 +\| 2 +\| 50 +\| 5 +\| 49,1 +\| 0 +\|$/m);
    match(out, /=== 2\. Skipped: ipamd and pods on a simulated node ===/);
    match(out, /needs root\. Run: sudo make demo/);
    ok(!out.includes("=== 3."), "nothing past the plan table ran");
  },
});

const root = Deno.uid() === 0;

Deno.test({
  name:
    "tools/demo.sh as root: pods reach each other and the node, the ENI links are explained, nothing is left",
  ignore: !built || !root,
  fn: async () => {
    const before = await hostState();
    const result = await bash([DEMO], { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DEMO_SKIP_PLAN: "1" });
    const out = result.stdout;
    equal(result.code, 0, `${out}\n${result.stderr}`);
    match(out, /^pod web-1 -> pod web-2 \(10\.\d+\.\d+\.\d+\): reached$/m);
    match(out, /^pod web-5 -> pod web-1 \(its address is on another ENI\) \(10\.\d+\.\d+\.\d+\): reached$/m);
    match(out, /^pod web-1 -> the node \(the primary ENI's address\) \(10\.\d+\.\d+\.\d+\): reached$/m);
    match(out, /a veth with the ENI.s MAC whose other end sits in the cloud.s own "VPC" namespace/);
    match(out, /^IAM: no permission missing/m);
    equal(JSON.stringify(await hostState()), JSON.stringify(before), "the host is as the demo found it");
  },
});

/** What the demo could leave on the host: namespaces, temp dirs, its state dirs. */
async function hostState(): Promise<Record<string, unknown>> {
  const netns = new TextDecoder().decode(
    (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout,
  );
  const tmp = [...Deno.readDirSync("/tmp")].map((e) => e.name).filter((n) => n.startsWith("aws-cni-demo."));
  const dirs = ["/run/aws-node", "/var/log/aws-routed-eni", "/etc/cni/net.d", "/etc/cni"].map((d) => {
    try {
      return `${d}:${[...Deno.readDirSync(d)].map((e) => e.name).sort().join(",")}`;
    } catch {
      return `${d}:absent`;
    }
  });
  return { netns: netns.split("\n").filter((l) => l.includes("awscni-demo")), tmp, dirs };
}
