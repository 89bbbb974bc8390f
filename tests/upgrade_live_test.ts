/**
 * The README's "Upgrade, rollback and going back to aws-node", followed step by
 * step on a test node with pods running: ipamd is the installed binary run by a
 * stand-in `systemctl` from the unit `install` wrote, against the simulated
 * cloud; pods are network namespaces wired by the installed plugin.
 *
 * 1. Install: `aws-cni install --prefix P` of build v1, then the README's
 *    `systemctl daemon-reload` and `systemctl enable --now aws-ipamd`; three pods
 *    get addresses and reach each other and the node.
 * 2. Upgrade: build v2's `install` renames it over the binary, keeps v1 as
 *    `.previous` and runs `systemctl try-restart`. While ipamd is stopped, the
 *    checkpoint lists every running pod, an ADD gets "try again later" (CNI code
 *    11) and a DEL queues its release, which the new ipamd applies. Every pod
 *    keeps its address, its host link, routes and rules; new ADDs and DELs work.
 * 3. Rollback: `aws-cni.previous install` puts v1 back (v2 becomes
 *    `.previous`), with the same checks.
 * 4. Going back to aws-node: `systemctl disable --now aws-ipamd`, then
 *    `aws-cni uninstall --keep-plugin`. aws-node itself cannot run here (it is a
 *    Kubernetes DaemonSet image), so the test asserts what the README says it
 *    reads: the binary and `10-aws.conflist` left in place, and
 *    `/var/run/aws-node/ipam.json` in the reference's `vpc-cni-ipam/1` format
 *    listing every running pod with its address, each with a host link whose
 *    name ends in the reference's hash of "namespace.pod" (aws-node keeps those
 *    and drops the rest). Through the kept plugin, with ipamd gone, a DEL tears
 *    its pod down (so aws-node drops its allocation) and an ADD says try again.
 *
 * `systemctl` is a script bound over `/usr/local/sbin` in the node's mount
 * namespace only (the first directory of the PATH aws-cni gives its children);
 * it hands its arguments to this test through a FIFO, and the test stops and
 * starts the node's ipamd by PID, returning once ipamd sent READY=1 through
 * the stand-in `systemd-notify` beside it, as systemd does for `Type=notify`.
 * The builds are copies of the `dist/aws-cni` launcher with a marker line, so
 * the test can tell which one is installed and which one ipamd runs.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createTempDir, type Netns, reach, run, type RunResult } from "../testing/netns.ts";
import {
  AWS_CNI,
  nodesReady,
  pluginEnv,
  pluginJson,
  podEnv,
  startNode,
  type TestNode,
} from "../testing/node.ts";
import { waitFor } from "../testing/rpc_sockets.ts";

const ready = await nodesReady();
const launcher = ready && (await Deno.readTextFile(AWS_CNI)).includes("aws-cni LAUNCHER");
if (!ready || !launcher) {
  // deno-lint-ignore no-console
  console.warn(
    "upgrade_live_test: skipped (needs root, namespaces and `make build`'s launcher dist/aws-cni, " +
      "which two builds are told apart by)",
  );
}

/** Where the node finds the stand-in `systemctl`: the first directory of aws-cni's child PATH. */
const SYSTEMCTL = "/usr/local/sbin/systemctl";

/** A copy of the launcher that exports `AWS_CNI_BUILD=<name>`, so the test can tell the builds apart. */
async function markedBuild(dir: string, name: string): Promise<string> {
  const [shebang, ...rest] = (await Deno.readTextFile(AWS_CNI)).split("\n");
  await Deno.mkdir(`${dir}/${name}`);
  const path = `${dir}/${name}/aws-cni`;
  await Deno.writeTextFile(
    path,
    [shebang, ...rest.slice(0, 1), `export AWS_CNI_BUILD=${name}`, ...rest.slice(1)].join("\n"),
    {
      mode: 0o755,
    },
  );
  return path;
}

/** The build marker in a file, or "none". */
async function buildOf(path: string): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return /^export AWS_CNI_BUILD=(\w+)$/m.exec(text)?.[1] ?? "none";
}

/** The build marker in a running process's environment. */
async function buildRunning(pid: number): Promise<string> {
  const environ = (await Deno.readTextFile(`/proc/${pid}/environ`)).split("\0");
  return environ.find((v) => v.startsWith("AWS_CNI_BUILD="))?.slice("AWS_CNI_BUILD=".length) ?? "none";
}

/**
 * The stand-in `systemctl`: a script that writes its arguments to the FIFO
 * `calls`, then reads the answer from `replies` (empty: success; else the
 * error, exit code 1). The test answers with `handle`.
 */
class StandInSystemd implements AsyncDisposable {
  readonly calls: string[] = [];
  readonly #dir: string;
  readonly #loop: Promise<void>;
  #stopping = false;
  #failure: unknown = undefined;

  private constructor(dir: string, handle: (args: string) => Promise<string>) {
    this.#dir = dir;
    this.#loop = this.#serve(handle);
  }

  static async start(node: TestNode, dir: string, handle: (args: string) => Promise<string>) {
    await Deno.mkdir(`${dir}/sbin`, { recursive: true });
    for (const fifo of ["calls", "replies"]) {
      const made = await run("mkfifo", [`${dir}/${fifo}`]);
      if (made.code !== 0) throw new Error(`mkfifo: ${made.stderr}`);
    }
    await Deno.writeTextFile(
      `${dir}/sbin/systemctl`,
      `#!/bin/sh
# systemctl on a test node: the test acts on the node's ipamd by PID and answers.
printf '%s\\n' "$*" >'${dir}/calls'
reply=$(cat '${dir}/replies')
[ -z "$reply" ] && exit 0
printf '%s\\n' "$reply" >&2
exit 1
`,
      { mode: 0o755 },
    );
    // ipamd's READY=1 (Type=notify), which systemctl start and restart wait for.
    await Deno.writeTextFile(
      `${dir}/sbin/systemd-notify`,
      `#!/bin/sh
printf '%s\\n' "$*" >"$NOTIFY_SOCKET.tmp" && mv "$NOTIFY_SOCKET.tmp" "$NOTIFY_SOCKET"
`,
      { mode: 0o755 },
    );
    const bound = await run("nsenter", [
      `--mount=${node.mounts.ns}`,
      "mount",
      "--bind",
      `${dir}/sbin`,
      "/usr/local/sbin",
    ]);
    if (bound.code !== 0) throw new Error(`Cannot bind the stand-in systemctl in the node: ${bound.stderr}`);
    return new StandInSystemd(dir, handle);
  }

  async #serve(handle: (args: string) => Promise<string>): Promise<void> {
    for (;;) {
      const request = await Deno.open(`${this.#dir}/calls`, { read: true });
      const args = (await new Response(request.readable).text()).trim();
      if (this.#stopping) return;
      this.calls.push(args);
      const reply = await handle(args).catch((error) => {
        this.#failure ??= error;
        return `failed: ${(error as Error).message}`;
      });
      const answer = await Deno.open(`${this.#dir}/replies`, { write: true });
      await answer.write(new TextEncoder().encode(reply === "" ? "" : `${reply}\n`));
      answer.close();
    }
  }

  /** Throws what the test's answer to a call threw (an assertion between stop and start, say). */
  rethrow(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopping = true;
    // Opening the FIFO for writing wakes the loop waiting for a call; closing it ends that call.
    (await Deno.open(`${this.#dir}/calls`, { write: true })).close();
    await this.#loop;
  }
}

/** A pod: its namespace, container ID (also its name, in namespace "default") and address. */
interface Pod {
  readonly id: string;
  readonly ns: Netns;
  ip: string;
}

/** The reference's host veth suffix for a pod: sha1("namespace.name"), first 11 hex digits. */
function vethSuffix(podNamespace: string, podName: string): string {
  return createHash("sha1").update(`${podNamespace}.${podName}`).digest("hex").slice(0, 11);
}

Deno.test({
  name: "the README's upgrade, rollback and hand-back to aws-node, live on a node with running pods",
  ignore: !launcher,
  fn: async () => {
    await using node = await startNode({ label: "upgrade", start: false });
    await using dir = await createTempDir("aws-cni-upgrade-");
    const prefix = `${dir.path}/root`;
    const installed = `${prefix}/opt/cni/bin/aws-cni`;
    const previous = `${installed}.previous`;
    const v1 = await markedBuild(dir.path, "v1");
    const v2 = await markedBuild(dir.path, "v2");

    /** Starts ipamd as the unit says: ExecStart's binary (under the prefix) and EnvironmentFile's settings. */
    const startFromUnit = async () => {
      const unit = await Deno.readTextFile(`${prefix}/etc/systemd/system/aws-ipamd.service`);
      const exec = /^ExecStart=\/opt\/cni\/bin\/aws-cni --daemon (.*)$/m.exec(unit);
      assert.ok(exec, `the unit runs /opt/cni/bin/aws-cni --daemon:\n${unit}`);
      const envFile = /^EnvironmentFile=-?(\S+)$/m.exec(unit)?.[1];
      assert.equal(envFile, "/etc/aws-cni/ipamd.env");
      const env = Object.fromEntries(
        (await Deno.readTextFile(prefix + envFile)).split("\n").filter((line) => /^[A-Z_0-9]+=/.test(line))
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      // What systemd's Type=notify waits for: READY=1 from ipamd (through systemd-notify).
      const notify = `${dir.path}/notify-${node.daemon.starts + 1}`;
      await node.daemon.start({ ...env, NOTIFY_SOCKET: notify }, exec[1]!.split(" "), installed);
      await waitFor(
        async () => (await Deno.readTextFile(notify).catch(() => "")).includes("--ready"),
        60_000,
      );
    };
    /** What runs between ipamd stopping and starting again on a try-restart (none: nothing). */
    let betweenRestart: (() => Promise<void>) | null = null;
    await using systemctl = await StandInSystemd.start(node, `${dir.path}/systemctl`, async (args) => {
      switch (args) {
        case "daemon-reload":
          return "";
        case "enable --now aws-ipamd":
          await startFromUnit();
          return "";
        case "disable --now aws-ipamd": {
          const exit = await node.daemon.stop();
          return exit.code === 0 ? "" : `ipamd exited with code ${exit.code}: ${exit.stderr}`;
        }
        case "try-restart aws-ipamd.service": {
          if (!node.daemon.running) return "";
          const exit = await node.daemon.stop();
          if (exit.code !== 0) return `ipamd exited with code ${exit.code}: ${exit.stderr}`;
          await betweenRestart?.();
          await startFromUnit();
          return "";
        }
      }
      return `Unknown command: ${args}`;
    });

    /** Runs a program inside the node as an operator would (root, the node's mounts and network). */
    const onNode = (program: string, args: string[]) =>
      node.netns.exec(program, args, { env: pluginEnv({}), clearEnv: true });
    const mustOnNode = async (program: string, args: string[]) => {
      const result = await onNode(program, args);
      systemctl.rethrow();
      assert.equal(result.code, 0, `${program} ${args.join(" ")}: ${result.stdout}${result.stderr}`);
      return result;
    };

    let netconf = "";
    /** The installed plugin run as the runtime runs it, with the conflist's plugin config. */
    const cni = (command: string, pod: Pod): Promise<RunResult> =>
      node.netns.exec(installed, [], {
        stdin: netconf,
        env: pluginEnv(podEnv(command, pod.ns.path, pod.id)),
        clearEnv: true,
      });
    const pods: Pod[] = [];
    let podCount = 0;
    const add = async (): Promise<Pod> => {
      const id = `pod${podCount++}`;
      const pod: Pod = { id, ns: await node.pod(id), ip: "" };
      const result = await cni("ADD", pod);
      assert.equal(result.code, 0, `ADD ${id}: ${result.stdout}${result.stderr}`);
      pod.ip = (pluginJson(result)!.ips as { address: string }[])[0]!.address.split("/")[0]!;
      pods.push(pod);
      return pod;
    };
    const del = async (pod: Pod) => {
      const result = await cni("DEL", pod);
      assert.equal(result.code, 0, `DEL ${pod.id}: ${result.stdout}${result.stderr}`);
      pods.splice(pods.indexOf(pod), 1);
      assert.deepEqual(await wiring(pod), { links: [], routes: [], rules: [] }, `DEL ${pod.id} unwired it`);
    };
    const tryAgain = async (id: string) => {
      const pod: Pod = { id, ns: await node.pod(id), ip: "" };
      const result = await cni("ADD", pod);
      assert.equal(result.code, 1, `ADD ${id} with ipamd stopped fails: ${result.stdout}${result.stderr}`);
      assert.equal(pluginJson(result)!.code, 11, `try again later: ${result.stdout}`);
      return pod;
    };

    /** A pod's host link (by the reference's name), its routes and rules in the node. */
    const wiring = async (pod: Pod) => {
      const suffix = vethSuffix("default", pod.id);
      const links = (await node.netns.ipJson("link", "show"))
        .filter((l) => String(l.ifname).endsWith(suffix))
        .map((l) => `${l.ifname} ${l.address} mtu ${l.mtu} ${(l.flags as string[]).join(",")}`);
      const routes = (await node.netns.ipJson("route", "show", "table", "all"))
        .filter((r) => r.dst === pod.ip || r.dst === `${pod.ip}/32`)
        .map((r) => `${r.dst} dev ${r.dev} table ${r.table ?? "main"} scope ${r.scope}`);
      const rules = (await node.netns.ipJson("rule", "show"))
        .filter((r) => r.dst === pod.ip || r.src === pod.ip)
        .map((r) => `${r.priority} from ${r.src} to ${r.dst ?? "all"} lookup ${r.table}`);
      return { links, routes, rules };
    };
    /** Every running pod's wiring, and what its own namespace holds. */
    const snapshot = async () =>
      await Promise.all(pods.map(async (pod) => ({
        id: pod.id,
        ip: pod.ip,
        node: await wiring(pod),
        pod: {
          addresses: (await pod.ns.ipJson("-4", "addr", "show", "eth0")).flatMap((l) =>
            (l.addr_info as { local: string; prefixlen: number }[]).map((a) => `${a.local}/${a.prefixlen}`)
          ),
          routes: (await pod.ns.ipJson("route", "show")).map((r) =>
            `${r.dst} via ${r.gateway ?? "-"} dev ${r.dev}`
          ),
        },
      })));
    /** The checkpoint as the node has it. */
    const checkpoint = async () => JSON.parse(await node.readFile(node.paths.checkpoint) ?? "null");
    /** containerID → address in the checkpoint. */
    const held = async () =>
      Object.fromEntries(
        ((await checkpoint())?.allocations as { containerID: string; ipv4: string }[] ?? [])
          .map((a) => [a.containerID, a.ipv4]).sort(),
      );
    const running = () => Object.fromEntries(pods.map((p) => [p.id, p.ip]).sort());
    /** Pods reach each other and the node reaches them. */
    const traffic = async () => {
      for (const [i, pod] of pods.entries()) {
        const next = pods[(i + 1) % pods.length]!;
        await reach(pod.ns, next.ns, next.ip);
      }
      await reach(node.netns, pods[0]!.ns, pods[0]!.ip);
    };

    // 1. Install, as "Install on a node" says, then three pods.
    const first = await mustOnNode(v1, ["install", "--prefix", prefix]);
    assert.match(first.stdout, /next: systemctl daemon-reload && systemctl enable --now aws-ipamd/);
    assert.equal(await buildOf(installed), "v1");
    await mustOnNode(SYSTEMCTL, ["daemon-reload"]);
    await mustOnNode(SYSTEMCTL, ["enable", "--now", "aws-ipamd"]);
    assert.equal(await buildRunning(node.daemon.pid!), "v1", "ipamd runs the installed v1");
    const conflist = JSON.parse(await node.readFile("/etc/cni/net.d/10-aws.conflist") ?? "null");
    assert.ok(conflist, "ipamd wrote the conflist once it served");
    const { plugins, ...list } = conflist;
    netconf = JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...plugins[0] });
    await mustOnNode("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    for (let i = 0; i < 3; i++) await add();
    await traffic();
    assert.deepEqual(await held(), running());

    // 2. Upgrade: v2's install, one rename, v1 kept as .previous, ipamd restarted under running pods.
    let before = await snapshot();
    const inode = (await Deno.stat(installed)).ino;
    const firstPid = node.daemon.pid;
    const gone = pods[0]!;
    const late: { pod?: Pod } = {};
    betweenRestart = async () => {
      assert.deepEqual(await held(), running(), "ipamd's checkpoint lists every running pod as it stops");
      late.pod = await tryAgain("waiting");
      await del(gone); // its release waits in the queue beside the socket
    };
    const upgraded = await mustOnNode(v2, ["install", "--prefix", prefix, "--restart"]);
    betweenRestart = null;
    assert.match(
      upgraded.stdout,
      /replaced .*aws-cni .*roll back with: \/opt\/cni\/bin\/aws-cni\.previous install/,
    );
    assert.match(upgraded.stdout, /restarted aws-ipamd\.service/);
    assert.deepEqual(systemctl.calls.slice(-2), ["daemon-reload", "try-restart aws-ipamd.service"]);
    assert.equal(await buildOf(installed), "v2");
    assert.equal(await buildOf(previous), "v1");
    assert.notEqual((await Deno.stat(installed)).ino, inode, "a rename, not a write into the running file");
    assert.notEqual(node.daemon.pid, firstPid);
    assert.equal(await buildRunning(node.daemon.pid!), "v2", "ipamd runs v2");
    await waitFor(async () => !((gone.id) in await held()), 10_000); // the queued release was applied
    assert.deepEqual(await held(), running());
    assert.deepEqual(await snapshot(), before.filter((p) => p.id !== gone.id), "every pod keeps its wiring");
    // kubelet retries the ADD that was told to try again.
    assert.ok(late.pod, "an ADD came while ipamd was stopped");
    const retried = await cni("ADD", late.pod);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    pods.push({
      ...late.pod,
      ip: (pluginJson(retried)!.ips as { address: string }[])[0]!.address.split("/")[0]!,
    });
    await add();
    await del(pods[0]!);
    await traffic();
    assert.deepEqual(await held(), running());

    // 3. Rollback: the .previous binary's install, v2 kept as .previous.
    before = await snapshot();
    const rolledBack = await mustOnNode(previous, ["install", "--prefix", prefix, "--restart"]);
    assert.match(rolledBack.stdout, /restarted aws-ipamd\.service/);
    assert.equal(await buildOf(installed), "v1", "the rollback installed the previous binary");
    assert.equal(await buildOf(previous), "v2", "a second rollback would go forward again");
    assert.equal(await buildRunning(node.daemon.pid!), "v1", "ipamd runs v1 again");
    assert.deepEqual(await held(), running());
    assert.deepEqual(await snapshot(), before, "every pod keeps its wiring");
    await add();
    await del(pods[0]!);
    await traffic();
    assert.deepEqual(await held(), running());

    // 4. Going back to aws-node: stop ipamd, uninstall --keep-plugin.
    await mustOnNode(SYSTEMCTL, ["disable", "--now", "aws-ipamd"]);
    assert.ok(!node.daemon.running, "ipamd is stopped");
    const handed = await mustOnNode(installed, ["uninstall", "--prefix", prefix, "--keep-plugin"]);
    assert.match(handed.stdout, /left .*aws-cni and .*10-aws\.conflist for aws-node to replace/);
    const left = await run("find", [prefix, "-type", "f"]);
    assert.deepEqual(
      left.stdout.trim().split("\n"),
      [installed],
      "the unit and the unedited ipamd.env are gone",
    );
    assert.equal(await buildOf(installed), "v1");
    const keptList = JSON.parse(await node.readFile("/etc/cni/net.d/10-aws.conflist") ?? "null");
    assert.deepEqual(keptList, conflist, "the conflist stays as ipamd wrote it");
    assert.equal(keptList.plugins[0].type, "aws-cni");

    // What aws-node's ipamd reads: the reference's checkpoint, every running pod with its address …
    const saved = await checkpoint();
    assert.equal(saved.version, "vpc-cni-ipam/1");
    assert.deepEqual(await held(), running());
    for (const a of saved.allocations) {
      assert.equal(a.networkName, "aws-cni");
      assert.equal(a.ifName, "eth0");
      assert.ok(
        Number.isInteger(a.allocationTimestamp) &&
          Math.abs(a.allocationTimestamp / 1e6 - Date.now()) < 600_000,
        `allocationTimestamp in unix nanoseconds: ${a.allocationTimestamp}`,
      );
      assert.deepEqual(a.metadata, {
        k8sPodNamespace: "default",
        k8sPodName: a.containerID,
        interfacesCount: 1,
      });
    }
    // … each kept because a host link ends in sha1("namespace.pod")[:11], which a torn-down pod lacks.
    const vethKept = async () => {
      const links = (await node.netns.ipJson("link", "show")).map((l) => String(l.ifname));
      return (saved.allocations as { containerID: string; metadata: { k8sPodName: string } }[])
        .filter((a) => links.some((name) => name.endsWith(vethSuffix("default", a.metadata.k8sPodName))))
        .map((a) => a.containerID).sort();
    };
    assert.deepEqual(await vethKept(), pods.map((p) => p.id).sort());
    // With ipamd gone: new pods wait, DELs go through the kept plugin.
    await tryAgain("after");
    await del(pods[0]!);
    assert.deepEqual(await vethKept(), pods.map((p) => p.id).sort(), "aws-node would drop the deleted pod");
    await traffic();
  },
});
