// Which grammar colours a file, by its name. Pure (no shiki import): the file tree shows the language too.

const byExtension: Record<string, string> = {
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "jsx",
  json: "json",
  jsonc: "jsonc",
  css: "css",
  scss: "scss",
  html: "html",
  htm: "html",
  md: "markdown",
  mdx: "markdown",
  sql: "sql",
  yml: "yaml",
  yaml: "yaml",
  toml: "toml",
  sh: "shellscript",
  bash: "shellscript",
  py: "python",
  svg: "xml",
  xml: "xml",
  prisma: "prisma",
  graphql: "graphql",
  gql: "graphql",
  ini: "ini",
};

const byName: Record<string, string> = {
  dockerfile: "docker",
  ".env": "dotenv",
  ".env.example": "dotenv",
  ".env.local": "dotenv",
  ".npmrc": "ini",
  makefile: "make",
};

/** Every grammar `languageOf` can answer: the highlighter loads exactly these. */
export const knownLanguages: readonly string[] = [
  ...new Set([...Object.values(byExtension), ...Object.values(byName)]),
];

/** The grammar for `filePath` (e.g. "src/app/page.tsx" → "tsx"), or null for plain text. */
export function languageOf(filePath: string): string | null {
  const name = (filePath.split("/").at(-1) ?? "").toLowerCase();
  const named = byName[name];
  if (named) return named;
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  return byExtension[name.slice(dot + 1)] ?? null;
}
