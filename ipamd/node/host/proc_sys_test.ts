import assert from "node:assert/strict";
import { checkProcSysKey, FileProcSys } from "./proc_sys.ts";

Deno.test("FileProcSys.set() writes an existing file under its root", async () => {
  const root = await Deno.makeTempDir({ prefix: "aws-cni-procsys-" });
  try {
    await Deno.mkdir(`${root}/net/ipv4/conf/eth0`, { recursive: true });
    await Deno.writeTextFile(`${root}/net/ipv4/conf/eth0/rp_filter`, "1\n");
    const procSys = new FileProcSys(root);
    await procSys.set("net/ipv4/conf/eth0/rp_filter", "2");
    assert.equal(await Deno.readTextFile(`${root}/net/ipv4/conf/eth0/rp_filter`), "2\n");
    await assert.rejects(() => procSys.set("net/ipv4/conf/eth9/rp_filter", "2"), /Cannot set/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkProcSysKey() refuses keys that leave /proc/sys", () => {
  assert.equal(checkProcSysKey("net/ipv4/conf/eth0.100/rp_filter"), "net/ipv4/conf/eth0.100/rp_filter");
  for (const key of ["../etc/passwd", "net/../../etc", "/net/ipv4", "net/ipv4/conf/a b/rp_filter", "net"]) {
    assert.throws(() => checkProcSysKey(key), TypeError, key);
  }
});
