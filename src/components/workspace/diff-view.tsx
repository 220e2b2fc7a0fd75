"use client";

import { DiffFiles } from "@/components/conversation/checkpoint-diff";
import type { RevisionDto } from "@/server/revisions/revision-types";

/** The files a checkpoint changed against the commit it was built on, the first ones open. */
export function DiffView({ revision }: { revision: RevisionDto | null }) {
  if (!revision?.commitSha) {
    return (
      <p className="text-muted-foreground text-sm">The changes appear once this checkpoint is committed.</p>
    );
  }
  return (
    <DiffFiles
      key={revision.id}
      url={`/api/v1/revisions/${encodeURIComponent(revision.id)}/diff`}
      openFirst={8}
    />
  );
}
