/**
 * A rough token count for when an upstream reports no usage (some Ollama and llama.cpp builds in streaming mode):
 * four characters a token, the usual rule of thumb for English text and code with BPE tokenizers. Rows it produced
 * are marked estimated, so nobody takes them for the server's own figures.
 */
export function estimateTokensOfChars(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4);
}

/** The input side: what the prompt says, not the JSON around it (keys and quotes would inflate the count). */
export function estimateInputTokens(texts: Iterable<string>): number {
  let chars = 0;
  for (const text of texts) chars += text.length;
  return estimateTokensOfChars(chars);
}
