import { AgentConfigError } from "../agent-config-error";

// Just enough TOML to write a config file from values Kiln does not control (model names, URLs): every string
// goes through `tomlString`, so no value can end a string early and inject keys or tables.

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const shortEscapes: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

/** A TOML basic string: quotes, backslashes and every control character escaped. */
export function tomlString(value: string): string {
  if (loneSurrogate.test(value)) {
    throw new AgentConfigError(
      "A config value is not valid Unicode (a lone surrogate); it cannot be written as TOML.",
    );
  }
  let out = '"';
  for (const char of value) {
    const short = shortEscapes[char];
    const code = char.codePointAt(0) ?? 0;
    if (short) out += short;
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

/** A key: bare when TOML allows it, quoted otherwise. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

export type TomlValue = string | number | boolean | string[];

function tomlValue(value: TomlValue): string {
  if (typeof value === "string") return tomlString(value);
  if (Array.isArray(value)) return `[${value.map(tomlString).join(", ")}]`;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (!Number.isSafeInteger(value)) throw new AgentConfigError(`Config value ${value} is not an integer.`);
  return String(value);
}

/** `key = value` lines; then each table as `[dotted.name]` with its lines. */
export function tomlDocument(
  top: Record<string, TomlValue>,
  tables: Array<{ name: string[]; values: Record<string, TomlValue> }>,
): string {
  const lines = (values: Record<string, TomlValue>) =>
    Object.entries(values).map(([key, value]) => `${tomlKey(key)} = ${tomlValue(value)}`);
  const sections = [lines(top).join("\n")];
  for (const table of tables) {
    sections.push([`[${table.name.map(tomlKey).join(".")}]`, ...lines(table.values)].join("\n"));
  }
  return `${sections.join("\n\n")}\n`;
}
