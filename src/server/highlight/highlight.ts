import "server-only";
import { createHash } from "node:crypto";
import { type BundledLanguage, createHighlighter, type HighlighterGeneric } from "shiki";
import type { HighlightedCode, HighlightedToken } from "./highlight-types";
import { knownLanguages } from "./languages";

// Server-side syntax highlighting with shiki (never shipped to the browser: the client renders the tokens). One
// highlighter per server process, its grammars loaded on first use; results are kept in a small in-memory cache
// because a checkpoint's files never change and tokenizing a large file costs seconds on a busy box.

const themes = { light: "github-light", dark: "github-dark" } as const;

type Highlighter = HighlighterGeneric<BundledLanguage, "github-light" | "github-dark">;

type Cache = { entries: Map<string, { code: HighlightedCode; chars: number }>; chars: number };

/** On globalThis: Next.js may bundle this module more than once, and each copy would build its own highlighter. */
const holder = globalThis as typeof globalThis & {
  __kilnHighlighter?: Promise<Highlighter>;
  __kilnHighlightCache?: Cache;
};

function highlighter(): Promise<Highlighter> {
  if (holder.__kilnHighlighter) return holder.__kilnHighlighter;
  const created = createHighlighter({ themes: [themes.light, themes.dark], langs: [] });
  // A failed start is not kept: the next request tries again.
  created.catch(() => {
    holder.__kilnHighlighter = undefined;
  });
  holder.__kilnHighlighter = created;
  return created;
}

// Bounded by the characters it holds (about 8 M, tokens included), oldest out first.
const maxCachedChars = 8_000_000;

function cache(): Cache {
  holder.__kilnHighlightCache ??= { entries: new Map(), chars: 0 };
  return holder.__kilnHighlightCache;
}

function remember(key: string, code: HighlightedCode, chars: number): void {
  const store = cache();
  if (chars > maxCachedChars / 4) return;
  store.entries.set(key, { code, chars });
  store.chars += chars;
  for (const [oldKey, entry] of store.entries) {
    if (store.chars <= maxCachedChars) break;
    store.entries.delete(oldKey);
    store.chars -= entry.chars;
  }
}

function isKnown(language: string): language is BundledLanguage {
  return knownLanguages.includes(language);
}

/** `text` split into lines of coloured tokens for both themes; null or unknown `language` is plain text. */
export async function highlightCode(text: string, language: string | null): Promise<HighlightedCode> {
  const lang = language !== null && isKnown(language) ? language : "text";
  const key = createHash("sha256").update(lang).update("\0").update(text).digest("hex");
  const hit = cache().entries.get(key);
  if (hit) return hit.code;

  const shiki = await highlighter();
  if (lang !== "text" && !shiki.getLoadedLanguages().includes(lang)) await shiki.loadLanguage(lang);
  const { tokens } = shiki.codeToTokens(text, {
    lang,
    themes,
    // A minified line would tokenize for seconds: past this length the rest of the line stays one plain token.
    tokenizeMaxLineLength: 2000,
    // Per line; shiki's default (500 ms) is hit on a loaded box while the grammar's patterns first compile, and the
    // rest of the line (kept in the cache) would be plain.
    tokenizeTimeLimit: 5000,
  });
  const colors: Array<[string, string]> = [];
  const indexOf = new Map<string, number>();
  const lines = tokens.map((line) =>
    line.map((token): HighlightedToken => {
      const light = String(token.htmlStyle?.color ?? token.color ?? "");
      const dark = String(token.htmlStyle?.["--shiki-dark"] ?? light);
      const colorKey = `${light} ${dark}`;
      let index = indexOf.get(colorKey);
      if (index === undefined) {
        index = colors.length;
        colors.push([light, dark]);
        indexOf.set(colorKey, index);
      }
      return [token.content, index];
    }),
  );
  const code = { colors, lines };
  remember(key, code, text.length * 2);
  return code;
}
