/**
 * The tree is the design: every folder of product code has a `mod.ts` that the
 * rest of the product imports it through, no module imports from a folder above
 * its own, and the folders import each other without a circle. Tests, fixtures
 * (`testing/`) and tools may reach into a folder; product code may not.
 *
 * @module
 */
import { deepEqual, ok } from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const NOT_PRODUCT = /(^|\/)(testing|tests|tools|node_modules|dist)\/|_test\.ts$|^\./;

/** A relative import of one product module: the importer and the imported file, both from the root. */
interface Edge {
  readonly from: string;
  readonly to: string;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function resolve(fromFile: string, specifier: string): string {
  const parts = dirOf(fromFile).split("/").filter(Boolean);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

async function productFiles(dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(ROOT + dir)) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (NOT_PRODUCT.test(path) || NOT_PRODUCT.test(`${path}/`)) continue;
    if (entry.isDirectory) files.push(...await productFiles(path));
    else if (entry.isFile && path.endsWith(".ts") && path.includes("/")) files.push(path);
  }
  return files.sort();
}

/** Relative module specifiers of `import`/`export … from` statements (type-only ones included). */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const statement = /^\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)"|^\s*import\s*"(\.[^"]+)"/gm;
  for (const match of source.matchAll(statement)) found.push((match[1] ?? match[2])!);
  return found;
}

async function edges(): Promise<Edge[]> {
  const all: Edge[] = [];
  for (const from of await productFiles()) {
    for (const specifier of importSpecifiers(await Deno.readTextFile(ROOT + from))) {
      const to = resolve(from, specifier);
      if (to.endsWith(".ts")) all.push({ from, to });
    }
  }
  return all;
}

/** The first circle in a folder graph, as folder names, or null. */
export function findCircle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const circle = visit(next);
      if (circle !== null) return circle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const circle = visit(node);
    if (circle !== null) return circle;
  }
  return null;
}

function none(found: readonly string[], what: string): void {
  deepEqual(found, [], `${what}:\n  ${found.join("\n  ")}`);
}

Deno.test("findCircle() finds a circle of folders and passes a tree", () => {
  const graph = (pairs: [string, string[]][]) => new Map(pairs.map(([k, v]) => [k, new Set(v)]));
  deepEqual(findCircle(graph([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])), ["a", "b", "c", "a"]);
  deepEqual(findCircle(graph([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

Deno.test("importSpecifiers() reads multi-line, type-only and re-export statements", () => {
  const source = 'import {\n  a,\n  type B,\n} from "./x.ts";\nimport type { C } from "../y/mod.ts";\n' +
    'export { d } from "./z.ts";\nimport assert from "node:assert/strict";\n';
  deepEqual(importSpecifiers(source), ["./x.ts", "../y/mod.ts", "./z.ts"]);
});

Deno.test("every product folder has a mod.ts, and other folders import it only through that", async () => {
  const files = await productFiles();
  const folders = new Set(files.map(dirOf));
  const missing = [...folders].filter((folder) => !files.includes(`${folder}/mod.ts`));
  none(missing, "folders without a mod.ts");
  const around = (await edges()).filter(({ from, to }) =>
    dirOf(from) !== dirOf(to) && !to.endsWith("/mod.ts") && !dirOf(from).startsWith(`${dirOf(to)}/`)
  );
  none(around.map(({ from, to }) => `${from} -> ${to}`), "imports that bypass a folder's mod.ts");
});

Deno.test("no product module imports from a folder above its own", async () => {
  const upward = (await edges()).filter(({ from, to }) => dirOf(from).startsWith(`${dirOf(to)}/`));
  none(upward.map(({ from, to }) => `${from} -> ${to}`), "imports from a folder above");
});

Deno.test("product folders import each other without a circle", async () => {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of await edges()) {
    if (dirOf(from) === dirOf(to)) continue;
    graph.set(dirOf(from), (graph.get(dirOf(from)) ?? new Set()).add(dirOf(to)));
  }
  ok(graph.size > 5, "the tree has folders that import each other");
  deepEqual(findCircle(graph), null);
});

Deno.test("the README's Layout names folders and files that exist, and the symbols it points to are in them", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.slice(
    readme.indexOf("## Layout\n"),
    readme.indexOf("\n## ", readme.indexOf("## Layout\n") + 1),
  );
  const folders = [...section.matchAll(/^ *([a-z]+(?:\/[a-z]+)*)\/ /gm)].map((m) => m[1]!);
  ok(folders.length >= 10, `the tree lists the folders (found ${folders.length})`);
  for (const row of section.split("\n").filter((line) => line.startsWith("| where"))) {
    const names = [...row.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const file = names.find((name) => name.includes("/"));
    ok(file !== undefined, `a row names a file: ${row}`);
    const dir = file.slice(0, file.lastIndexOf("/") + 1);
    const texts = new Map<string, string>();
    for (const name of names.filter((name) => name.endsWith(".ts"))) {
      texts.set(name, await Deno.readTextFile(`${ROOT}${name.includes("/") ? name : dir + name}`));
    }
    for (const symbol of names.filter((name) => !name.endsWith(".ts"))) {
      ok(
        [...texts.values()].some((text) =>
          new RegExp(`export (async )?(function|class|const) ${symbol}\\b`).test(text)
        ),
        `${symbol} is exported where the row says: ${row}`,
      );
    }
  }
  for (const folder of folders) {
    // Indented folders are ipamd's own.
    const candidates = [`${ROOT}${folder}`, `${ROOT}ipamd/${folder}`];
    const found = await Promise.all(candidates.map((c) => Deno.stat(c).then(() => true, () => false)));
    ok(found.some(Boolean), `the Layout's ${folder}/ exists`);
  }
});
