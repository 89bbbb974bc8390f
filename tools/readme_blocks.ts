/**
 * Generated blocks in README.md: text between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` markers, written by the tools/gen_*.ts scripts and checked
 * by tests so the README cannot drift from the code.
 *
 * @module
 */

function markers(name: string): [string, string] {
  return [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
}

/** The text between the markers of `name` (without the marker lines), or null without markers. */
export function blockIn(readme: string, name: string): string | null {
  const [start, end] = markers(name);
  const from = readme.indexOf(`${start}\n`);
  const to = readme.indexOf(end, from);
  return from < 0 || to < 0 ? null : readme.slice(from + start.length + 1, to);
}

/** `readme` with `text` between the markers of `name`. */
export function withBlock(readme: string, name: string, text: string): string {
  const [start, end] = markers(name);
  const current = blockIn(readme, name);
  if (current === null) {
    throw new Error(`Cannot find the "${start}" and "${end}" markers`);
  }
  return readme.replace(
    `${start}\n${current}${end}`,
    `${start}\n${text}${end}`,
  );
}

/** A Markdown table without its padding: trimmed cells, separator cells as `---`, blank lines dropped. */
export function normalizeTable(text: string): string {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "").map((line) =>
    line.split(/(?<!\\)\|/).map((cell) => cell.trim()).map((cell) => /^:?-+:?$/.test(cell) ? "---" : cell)
      .join("|")
  ).join("\n");
}

/** Writes `text` into the README block `name` and formats the file. */
export async function writeBlock(
  path: string,
  name: string,
  text: string,
): Promise<void> {
  await Deno.writeTextFile(
    path,
    withBlock(await Deno.readTextFile(path), name, text),
  );
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] })
    .output();
}
