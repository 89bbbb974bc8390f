/**
 * A tiny container image built on the spot, so runtime tests need no registry:
 * one uncompressed layer with a static busybox (`/bin/busybox`, `/bin/sh`,
 * `/bin/sleep`) whose entrypoint sleeps, written as an OCI image layout in a
 * tar archive that `ctr images import` and `podman load` both take.
 *
 * @module
 */
import { mustRun } from "./netns.ts";

/** Where Debian's busybox-static puts the static binary. */
export const BUSYBOX = "/bin/busybox";

/** The image's name (as the runtimes list it) and the archive to load it from. */
export interface TestImage {
  readonly name: string;
  readonly archive: string;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether busybox is there and static (a dynamic one would not run in the image). */
export async function staticBusybox(): Promise<boolean> {
  try {
    const head = new Uint8Array(4096);
    using file = await Deno.open(BUSYBOX);
    const n = await file.read(head) ?? 0;
    const text = new TextDecoder("latin1").decode(head.subarray(0, n));
    return text.startsWith("\x7fELF") && !text.includes("/lib64/ld-linux") && !text.includes("ld-linux-");
  } catch {
    return false;
  }
}

/** Adds a blob to the layout; returns its descriptor fields. */
async function addBlob(
  layout: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ digest: string; size: number }> {
  const hex = await sha256(bytes);
  await Deno.writeFile(`${layout}/blobs/sha256/${hex}`, bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/**
 * Writes `<dir>/image.tar`, the image `localhost/aws-cni-test/sleeper:<tag>`,
 * whose entrypoint is `sleep 86400`.
 */
export async function buildTestImage(dir: string, tag = "1"): Promise<TestImage> {
  const rootfs = `${dir}/rootfs`;
  const layout = `${dir}/layout`;
  await Deno.mkdir(`${rootfs}/bin`, { recursive: true });
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  await Deno.copyFile(BUSYBOX, `${rootfs}/bin/busybox`);
  for (const applet of ["sh", "sleep"]) await Deno.symlink("busybox", `${rootfs}/bin/${applet}`);
  await mustRun("tar", [
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-C",
    rootfs,
    "-cf",
    `${dir}/layer.tar`,
    ".",
  ]);
  const layerBytes = await Deno.readFile(`${dir}/layer.tar`);
  const layer = await addBlob(layout, layerBytes);
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const config = await addBlob(
    layout,
    json({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: ["/bin/sleep", "86400"], Env: ["PATH=/bin"] },
      rootfs: { type: "layers", diff_ids: [layer.digest] },
    }),
  );
  const manifest = await addBlob(
    layout,
    json({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
    }),
  );
  const name = `localhost/aws-cni-test/sleeper:${tag}`;
  await Deno.writeTextFile(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        // containerd names the image from the first, podman from the second.
        annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name },
      }],
    }),
  );
  await Deno.writeTextFile(`${layout}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const archive = `${dir}/image.tar`;
  await mustRun("tar", ["-C", layout, "-cf", archive, "."]);
  return { name, archive };
}
