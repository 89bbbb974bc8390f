/**
 * Generates ipamd/limits/instance_limits.json from a DescribeInstanceTypes fact file
 * (`{ source?, instanceTypes: { [name]: { enis, ipv4PerEni, hypervisor, bareMetal,
 * defaultNetworkCard, networkCards: [{ index, maxEnis }] } } }`).
 *
 * Usage: `deno run --allow-read --allow-write tools/gen_instance_limits.ts <input.json> <output.json>`
 *
 * The output is deterministic (types sorted by name, one row per line) and already
 * in `deno fmt` shape, so regenerating from the same input changes nothing.
 *
 * @module
 */

/** The columns of a row, in order, with what each holds. */
export const INSTANCE_LIMIT_FIELDS: readonly string[] = Object.freeze([
  "enis: max ENIs usable on the default network card",
  "ipv4PerEni: IPv4 addresses per ENI, the ENI's own primary address included",
  "hypervisor: nitro, xen or unknown (EC2 names none for most bare-metal types)",
  "bareMetal: true for a bare-metal type",
  "defaultNetworkCard: index of the default network card",
  "networkCards: runs of [card count, max ENIs per card], in card-index order from card 0",
]);

const DEFAULT_SOURCE = "EC2 DescribeInstanceTypes facts";

interface Fact {
  readonly enis: number;
  readonly ipv4PerEni: number;
  readonly hypervisor: string;
  readonly bareMetal: boolean;
  readonly defaultNetworkCard: number;
  /** Max ENIs per card, by card index. */
  readonly cardMaxEnis: readonly number[];
}

/**
 * Validates a fact file and renders the project's compact limits file.
 *
 * @param input The parsed fact file.
 * @returns The JSON text, ending with a newline.
 * @throws {SyntaxError} When the fact file has an unexpected shape.
 */
export function renderInstanceLimits(input: unknown): string {
  if (!isRecord(input) || !isRecord(input.instanceTypes)) {
    throw new SyntaxError('Cannot read the fact file: expected an object with "instanceTypes"');
  }
  const source = typeof input.source === "string" && input.source !== "" ? input.source : DEFAULT_SOURCE;
  const names = Object.keys(input.instanceTypes).sort(compareCodeUnits);
  if (names.length === 0) throw new SyntaxError("Cannot read the fact file: it lists no instance types");
  const rows = names.map((name) => {
    const fact = readFact(name, (input.instanceTypes as Record<string, unknown>)[name]);
    return `    ${JSON.stringify(name)}: ${renderRow(fact)}`;
  });
  const fields = INSTANCE_LIMIT_FIELDS.map((field) => `      ${JSON.stringify(field)}`);
  return [
    "{",
    '  "header": {',
    '    "fields": [',
    fields.join(",\n"),
    "    ],",
    `    "source": ${JSON.stringify(source)}`,
    "  },",
    '  "instanceTypes": {',
    rows.join(",\n"),
    "  }",
    "}",
    "",
  ].join("\n");
}

function readFact(name: string, value: unknown): Fact {
  const fail = (detail: string): never => {
    throw new SyntaxError(`Cannot read instance type "${name}": ${detail}`);
  };
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) fail("the name is not a lowercase EC2 type name");
  if (!isRecord(value)) return fail("expected an object");
  const { enis, ipv4PerEni, hypervisor, bareMetal, defaultNetworkCard, networkCards } = value;
  if (!isPositiveInteger(enis)) fail(`"enis" must be a positive integer, got ${JSON.stringify(enis)}`);
  if (!isPositiveInteger(ipv4PerEni)) {
    fail(`"ipv4PerEni" must be a positive integer, got ${JSON.stringify(ipv4PerEni)}`);
  }
  if (hypervisor !== "nitro" && hypervisor !== "xen" && hypervisor !== "unknown") {
    fail(`"hypervisor" must be "nitro", "xen" or "unknown", got ${JSON.stringify(hypervisor)}`);
  }
  if (typeof bareMetal !== "boolean") fail(`"bareMetal" must be a boolean`);
  if (!Number.isSafeInteger(defaultNetworkCard) || (defaultNetworkCard as number) < 0) {
    fail(`"defaultNetworkCard" must be a card index, got ${JSON.stringify(defaultNetworkCard)}`);
  }
  if (!Array.isArray(networkCards) || networkCards.length === 0) {
    fail(`"networkCards" must be a non-empty array`);
  }
  const cards = (networkCards as unknown[]).map((card) => {
    if (!isRecord(card) || !Number.isSafeInteger(card.index) || !isPositiveInteger(card.maxEnis)) {
      return fail(`every network card needs an integer "index" and a positive "maxEnis"`);
    }
    return { index: card.index as number, maxEnis: card.maxEnis };
  }).sort((a, b) => a.index - b.index);
  cards.forEach((card, position) => {
    if (card.index !== position) fail(`network card indexes must run from 0 without gaps`);
  });
  if ((defaultNetworkCard as number) >= cards.length) fail(`the default network card is not listed`);
  return {
    enis: enis as number,
    ipv4PerEni: ipv4PerEni as number,
    hypervisor: hypervisor as string,
    bareMetal: bareMetal as boolean,
    defaultNetworkCard: defaultNetworkCard as number,
    cardMaxEnis: cards.map((card) => card.maxEnis),
  };
}

function renderRow(fact: Fact): string {
  const runs: [number, number][] = [];
  for (const maxEnis of fact.cardMaxEnis) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === maxEnis) last[0] += 1;
    else runs.push([1, maxEnis]);
  }
  const cards = `[${runs.map(([count, maxEnis]) => `[${count}, ${maxEnis}]`).join(", ")}]`;
  const hypervisor = JSON.stringify(fact.hypervisor);
  return `[${fact.enis}, ${fact.ipv4PerEni}, ${hypervisor}, ${fact.bareMetal}, ${fact.defaultNetworkCard}, ${cards}]`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/** Locale-independent order, so the output is the same on every machine. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function main(args: readonly string[]): Promise<number> {
  const [inputPath, outputPath, ...rest] = args;
  if (inputPath === undefined || outputPath === undefined || rest.length > 0) {
    await writeStderr("Usage: gen_instance_limits.ts <input.json> <output.json>\n");
    return 2;
  }
  const input: unknown = JSON.parse(await Deno.readTextFile(inputPath));
  const text = renderInstanceLimits(input);
  await Deno.writeTextFile(outputPath, text);
  const count = Object.keys((input as { instanceTypes: object }).instanceTypes).length;
  await writeStderr(`Wrote ${count} instance types to "${outputPath}"\n`);
  return 0;
}

async function writeStderr(text: string): Promise<void> {
  await Deno.stderr.write(new TextEncoder().encode(text));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
