/**
 * A minimal XML writer for the EC2 Query protocol's responses: elements are built
 * as strings, and only text content is escaped (element names are constants).
 *
 * @module
 */

/** A scalar that becomes an element's text. */
export type XmlScalar = string | number | boolean;

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => XML_ENTITIES[ch] ?? ch);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** `<name>value</name>`, or nothing when `value` is undefined. */
export function leaf(name: string, value: XmlScalar | undefined): string {
  if (value === undefined) return "";
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>children</name>` from already-written children. */
export function node(name: string, ...children: readonly string[]): string {
  return `<${name}>${children.join("")}</${name}>`;
}

/** An EC2 list: `<name><item>…</item>…</name>` from each item's children (empty lists too, as EC2 writes them). */
export function itemSet(name: string, items: readonly string[]): string {
  return node(name, ...items.map((item) => node("item", item)));
}

/** A whole document: the XML declaration, then `root`. */
export function xmlDocument(root: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}`;
}
