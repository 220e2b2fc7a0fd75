import { randomBytes } from "node:crypto";
import path from "node:path";
import { type PreviewOrigins, previewOrigins } from "../../src/server/previews/preview-origin";
import type { PublicSite } from "../../src/server/share-links/public-events";

// What the platform hands domain functions about its public face (src/server/platform/wire-platform.ts), as a
// server with the default environment builds it: Kiln at http://localhost:3000, previews on *.localhost, its data
// in ./.data, this checkout as its code. The preview labels' key is random (the real one comes from the secret key).

export const testPublicUrl = "http://localhost:3000";

export const testPreviewOrigins: PreviewOrigins = previewOrigins(testPublicUrl, "localhost", randomBytes(32));

export const testPublicSite: PublicSite = {
  publicHost: {
    publicUrl: testPublicUrl,
    previewDomain: "localhost",
    dataDir: path.resolve(".data"),
    platformRoot: process.cwd(),
  },
  previewOrigins: testPreviewOrigins,
};
