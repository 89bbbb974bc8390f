import assert from "node:assert/strict";
import { checkNetns, type NetnsFs, netnsProblem, procPathProblem } from "./netns_check.ts";
import { canCreateNetns, createNetns, mustRun, run } from "../testing/netns.ts";

/** What stat shows for a namespace file (nsfs: device 0:4, an empty regular file). */
function nsInfo(ino: number): Deno.FileInfo {
  return {
    isFile: true,
    isDirectory: false,
    isSymlink: false,
    size: 0,
    dev: 4,
    ino,
  } as Deno.FileInfo;
}

/** Fake lookups: `files` by path for stat and lstat alike; anything else throws `missing`. */
function fakeFs(files: Record<string, Deno.FileInfo>, missing: () => Error): NetnsFs {
  const look = (path: string) => {
    const info = files[path];
    return info === undefined ? Promise.reject(missing()) : Promise.resolve(info);
  };
  return { stat: look, lstat: look };
}

const NOT_FOUND = () => new Deno.errors.NotFound("No such file or directory");

Deno.test("procPathProblem() takes /proc/<pid>/ns/net links and refuses the plugin's own and other kinds", () => {
  for (
    const path of ["/proc/4242/ns/net", "/proc/1/task/77/ns/net", "/var/run/netns/x", "/x/proc/1/ns/mnt"]
  ) {
    assert.equal(procPathProblem(path), undefined, path);
  }
  assert.equal(procPathProblem("/proc/self/ns/net"), "names the plugin's own network namespace");
  assert.equal(procPathProblem("/proc/thread-self/ns/net"), "names the plugin's own network namespace");
  assert.equal(procPathProblem("/proc/4242/ns/mnt"), 'is a "mnt" namespace link, not a network namespace');
  assert.equal(procPathProblem("/proc/4242/status"), "is under /proc but not a /proc/<pid>/ns/net link");
});

Deno.test("netnsProblem() says what is wrong with a path, and takes one it may not look at", async (t) => {
  const files: Record<string, Deno.FileInfo> = {
    "/run/netns/pod": nsInfo(0xf000014d),
    "/proc/4242/ns/net": nsInfo(0xf0000200),
    "/proc/1/ns/net": nsInfo(0xeffffff9),
    "/run/netns/host": nsInfo(0xeffffff9),
    "/run/netns/planted": { ...nsInfo(0), isFile: false, isSymlink: true, size: 17, dev: 2049 },
    "/run/netns/text": { ...nsInfo(12345), size: 3, dev: 2049 },
    "/run/netns/dir": { ...nsInfo(12346), isFile: false, isDirectory: true, dev: 2049 },
  };
  const fs = fakeFs(files, NOT_FOUND);
  const cases: [string, string | undefined][] = [
    ["/run/netns/pod", undefined],
    ["/proc/4242/ns/net", undefined],
    ["/proc/1/ns/net", "is the host's own (initial) network namespace"],
    ["/run/netns/host", "is the host's own (initial) network namespace"],
    ["/run/netns/planted", "is a symbolic link, not a namespace file"],
    ["/run/netns/text", "is not a network namespace"],
    ["/run/netns/dir", "is a directory, not a network namespace"],
    ["/run/netns/gone", "does not exist"],
    ["/proc/999999/ns/net", "does not exist (no such process)"],
    ["/proc/self/ns/net", "names the plugin's own network namespace"],
  ];
  for (const [path, problem] of cases) {
    await t.step(path, async () => assert.equal(await netnsProblem(path, fs), problem));
  }
  await t.step("outside Deno's read permission (or under /proc): left to the kernel", async () => {
    const refused = fakeFs({}, () => new Deno.errors.NotCapable('Requires read access to "/x"'));
    assert.equal(await netnsProblem("/var/lib/kubelet/pods/x/netns", refused), undefined);
    assert.equal(await netnsProblem("/proc/4242/ns/net", refused), undefined);
    assert.deepEqual(await checkNetns("/proc/4242/ns/net", refused), { problem: undefined, looked: false });
    assert.deepEqual(await checkNetns("/run/netns/pod", fs), { problem: undefined, looked: true });
    assert.equal(
      await netnsProblem("/proc/self/ns/net", refused),
      "names the plugin's own network namespace",
    );
  });
});

const ROOT = await canCreateNetns();

Deno.test({
  name:
    "netnsProblem() on real files: a netns, /proc/<pid>/ns/net and a bind mount pass, a planted symlink does not",
  ignore: !ROOT,
  async fn() {
    await using pod = await createNetns("nscheck");
    const dir = await Deno.makeTempDir({ prefix: "aws-cni-nscheck-" });
    const holder = new Deno.Command("ip", {
      args: ["netns", "exec", pod.name, "sh", "-c", "echo ready && exec sleep 60"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = holder.stdout.getReader();
      await reader.read(); // "ready": the holder is inside the pod's namespace
      reader.releaseLock();
      assert.equal(await netnsProblem(pod.path), undefined, "a file under /run/netns");
      assert.equal(await netnsProblem(`/proc/${holder.pid}/ns/net`), undefined, "a process's namespace link");
      await Deno.writeTextFile(`${dir}/bound`, "");
      await mustRun("mount", ["--bind", pod.path, `${dir}/bound`]);
      try {
        assert.equal(await netnsProblem(`${dir}/bound`), undefined, "a namespace bind-mounted anywhere");
      } finally {
        await run("umount", [`${dir}/bound`]);
      }
      await Deno.symlink(pod.path, `${dir}/planted`);
      assert.equal(await netnsProblem(`${dir}/planted`), "is a symbolic link, not a namespace file");
      await Deno.writeTextFile(`${dir}/plain`, "");
      assert.equal(await netnsProblem(`${dir}/plain`), "is not a network namespace");
      assert.equal(
        await netnsProblem(`/proc/${Deno.pid}/ns/mnt`),
        'is a "mnt" namespace link, not a network namespace',
      );
    } finally {
      holder.kill("SIGKILL");
      await holder.stdout.cancel().catch(() => {});
      await holder.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
