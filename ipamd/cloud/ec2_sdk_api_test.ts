import assert from "node:assert/strict";

const CLOUD = new URL(".", import.meta.url);
const IPAMD = new URL("..", import.meta.url);
const BUNDLE = new URL("../../dist/sdk/client-ec2.js", import.meta.url);

/** Every non-test TypeScript file under ipamd/, with its text. */
async function ipamdSources(dir = IPAMD): Promise<Array<[string, string]>> {
  const files: Array<[string, string]> = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) files.push(...await ipamdSources(url));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push([url.pathname.slice(IPAMD.pathname.length), await Deno.readTextFile(url)]);
    }
  }
  return files;
}

/** The value names `text` imports from modules whose specifier matches `from`. */
function importedValues(text: string, from: RegExp): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/g)) {
    if (match[1] !== undefined || !from.test(match[3]!)) continue;
    for (const item of match[2]!.split(",")) {
      const name = item.trim().split(/\s+as\s+/)[0]!;
      if (name !== "" && !name.startsWith("type ")) names.push(name);
    }
  }
  return names;
}

async function bundleExports(): Promise<Record<string, unknown>> {
  try {
    return await import(BUNDLE.href);
  } catch (error) {
    throw new Error(`cannot load ${BUNDLE.pathname}: run \`make build\` (tools/bundle_sdk.sh)`, {
      cause: error,
    });
  }
}

Deno.test("the SDK bundle exports every command and class ipamd imports or sends, and nothing else", async () => {
  const used = new Set<string>();
  for (const [, text] of await ipamdSources()) {
    for (const name of importedValues(text, /ec2_sdk_api\.ts$/)) used.add(name);
    for (const match of text.matchAll(/\bnew\s+([A-Z]\w*Command)\s*\(/g)) used.add(match[1]!);
  }
  assert.ok(used.has("EC2Client") && used.has("EC2ServiceException"), [...used].join(", "));
  const exported = await bundleExports();
  for (const name of used) assert.equal(typeof exported[name], "function", `the SDK bundle lacks ${name}`);
  const api = await Deno.readTextFile(new URL("ec2_sdk_api.ts", CLOUD));
  const reexported = /export\s*\{([^}]*)\}\s*from\s*"\.\.\/\.\.\/dist\/sdk\/client-ec2\.js"/.exec(api)?.[1];
  assert.ok(reexported, "ec2_sdk_api.ts re-exports the bundle's values");
  const names = reexported.split(",").map((name) => name.trim()).filter(Boolean).sort();
  assert.deepEqual(Object.keys(exported).sort(), names, "the bundle holds what ec2_sdk_api.ts names");
  assert.deepEqual([...used].sort(), names, "ec2_sdk_api.ts names what ipamd uses, no more");
});

Deno.test("no module of ipamd but ec2_sdk_api.ts names the SDK package", async () => {
  for (const [path, text] of await ipamdSources()) {
    if (path === "cloud/ec2_sdk_api.ts") continue;
    assert.doesNotMatch(text, /from\s+"(npm:)?@aws-sdk\//, path);
  }
});
