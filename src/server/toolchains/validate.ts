/** C0 controls and DEL: never legitimate in a model name, token or prompt argument (tabs and newlines aside). */
export function hasControlCharacter(value: string, options: { allowWhitespace?: boolean } = {}): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (options.allowWhitespace && (char === "\t" || char === "\n" || char === "\r")) continue;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
