/** A PNG answer for browsers only (no shared caches), briefly cached: a revoked share link must stop serving it. */
export function pngResponse(png: Buffer, options: { noindex?: boolean } = {}): Response {
  return new Response(new Uint8Array(png), {
    headers: {
      "content-type": "image/png",
      "content-length": String(png.byteLength),
      "cache-control": "private, max-age=300",
      "x-content-type-options": "nosniff",
      ...(options.noindex ? { "x-robots-tag": "noindex" } : {}),
    },
  });
}
