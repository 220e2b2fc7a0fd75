import type { CSSProperties } from "react";
import type { HighlightedCode, HighlightedToken } from "@/server/highlight/highlight-types";

type TokenStyle = CSSProperties & { "--code-light": string; "--code-dark": string };

/**
 * One line of server-highlighted code: each token a span coloured for the light theme, or the dark one under
 * `.dark` (the app's dark mode). Text goes through React, so it is always escaped.
 */
export function CodeTokens({
  tokens,
  colors,
}: {
  tokens: ReadonlyArray<HighlightedToken>;
  colors: HighlightedCode["colors"];
}) {
  return tokens.map(([text, color], index) => {
    const [light, dark] = colors[color] ?? ["inherit", "inherit"];
    const style: TokenStyle = { "--code-light": light, "--code-dark": dark };
    return (
      // biome-ignore lint/suspicious/noArrayIndexKey: tokens of a fixed line, never reordered
      <span key={index} style={style} className="text-(--code-light) dark:text-(--code-dark)">
        {text}
      </span>
    );
  });
}
