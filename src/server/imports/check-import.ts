import { AppError } from "@/server/errors";
import type { ImportOrigin, ImportSource } from "@/server/integrations/git-host/import-source";
import {
  ImportRefusal,
  type RepoImporter,
  withImportScratch,
} from "@/server/integrations/git-host/repo-importer";
import { ProviderError } from "@/server/integrations/provider-error";
import { checkAppFit } from "./app-fit";

export type CheckedImport = ImportOrigin & { name: string };

/**
 * Fetches the repository to import into a scratch directory (bounded in time and size) and checks that it fits,
 * before anything is created: the operator learns at once, in the request, what is wrong. The commit checked is the
 * one provisioning later imports.
 */
export async function checkImport(importer: RepoImporter, source: ImportSource): Promise<CheckedImport> {
  return withImportScratch(async (dir) => {
    let fetched: Awaited<ReturnType<RepoImporter["fetch"]>>;
    try {
      fetched = await importer.fetch(source, dir);
    } catch (error) {
      if (error instanceof ImportRefusal) {
        // A field's refusal (the URL itself) is a bad request; the repository's is unprocessable.
        if (error.isInput)
          throw new AppError("bad_request:input", error.message, {
            fields: { [error.field ?? "source"]: [error.message] },
          });
        throw new AppError("rejected:import", error.message, {
          fields: { [error.field ?? "source"]: [error.message] },
        });
      }
      if (error instanceof ProviderError)
        throw new AppError("unavailable:import", undefined, { cause: error });
      throw error;
    }
    const fit = await checkAppFit(dir);
    if (!fit.ok) {
      throw new AppError("rejected:import", `This repository cannot be imported: ${fit.problems.join(" ")}`, {
        fields: { source: fit.problems },
      });
    }
    return { kind: source.kind, location: fetched.location, sha: fetched.sha, name: fetched.name };
  });
}
