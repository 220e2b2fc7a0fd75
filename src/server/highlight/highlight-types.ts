// Client-safe: code as the server's highlighter colours it. Tokens, not HTML, so the browser renders text through
// React (escaped) and never parses markup that came out of generated code.

/** One run of text in one colour: [text, index into `colors`]. */
export type HighlightedToken = [text: string, color: number];

export type HighlightedCode = {
  /** The colours the tokens use: [light theme, dark theme], each a CSS colour. */
  colors: Array<[light: string, dark: string]>;
  /** One entry per line of the text, without its line break. */
  lines: HighlightedToken[][];
};
