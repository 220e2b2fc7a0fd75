"use client";

import { useEffect, useId, useState } from "react";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Spinner } from "@/components/ui/spinner";
import { Tabs, TabsList, TabsTrigger } from "@/components/ui/tabs";
import type { GitHubRepoSummary, ImportSource } from "@/server/integrations/git-host/import-source";

type Listing =
  | { state: "loading" }
  | { state: "ready"; repos: GitHubRepoSummary[] }
  | { state: "failed"; message: string };

const listingSchemaGuard = (value: unknown): value is { repos: GitHubRepoSummary[] } =>
  typeof value === "object" && value !== null && "repos" in value && Array.isArray(value.repos);

/** The operator's GitHub repositories, from `GET /api/v1/github/repos` (their session cookie). */
function useGitHubRepos(enabled: boolean): Listing {
  const [listing, setListing] = useState<Listing>({ state: "loading" });
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    fetch("/api/v1/github/repos", { signal: controller.signal })
      .then(async (response) => {
        const body: unknown = await response.json();
        if (response.ok && listingSchemaGuard(body)) setListing({ state: "ready", repos: body.repos });
        else setListing({ state: "failed", message: "GitHub did not list your repositories." });
      })
      .catch((error: unknown) => {
        if (error instanceof DOMException && error.name === "AbortError") return;
        setListing({ state: "failed", message: "GitHub did not list your repositories." });
      });
    return () => controller.abort();
  }, [enabled]);
  return listing;
}

/**
 * Where an imported project comes from: a git URL, or one of the operator's GitHub repositories when a GitHub
 * token is available. Errors are the server's, shown under the field they are about.
 */
export function ImportSourceFields({
  value,
  onChange,
  githubAvailable,
  errors,
}: {
  value: ImportSource;
  onChange: (value: ImportSource) => void;
  githubAvailable: boolean;
  errors: Record<string, string[] | undefined>;
}) {
  const baseId = useId();
  const listing = useGitHubRepos(githubAvailable && value.kind === "github");
  const urlError = errors["source.url"]?.[0];
  const repoError = errors["source.fullName"]?.[0];
  const fitErrors = errors.source;
  return (
    <fieldset className="grid gap-3">
      <legend className="sr-only">Repository to import</legend>
      {githubAvailable ? (
        <Tabs
          value={value.kind}
          onValueChange={(kind) =>
            onChange(kind === "git" ? { kind, url: "" } : { kind: "github", fullName: "" })
          }
        >
          <TabsList aria-label="Import from">
            <TabsTrigger value="github">My GitHub repositories</TabsTrigger>
            <TabsTrigger value="git">A git URL</TabsTrigger>
          </TabsList>
        </Tabs>
      ) : null}
      {value.kind === "git" ? (
        <div className="grid gap-1.5">
          <Label htmlFor={`${baseId}-url`}>Repository URL</Label>
          <Input
            id={`${baseId}-url`}
            name="url"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://github.com/acme/shop.git"
            value={value.url}
            onChange={(event) => onChange({ kind: "git", url: event.target.value })}
            aria-invalid={urlError ? true : undefined}
            aria-describedby={`${baseId}-url-help`}
            required
          />
          {urlError ? (
            <p id={`${baseId}-url-help`} role="alert" className="text-destructive text-xs">
              {urlError}
            </p>
          ) : (
            <p id={`${baseId}-url-help`} className="text-muted-foreground text-xs">
              An https:// URL: public, or on GitHub with your token.
            </p>
          )}
        </div>
      ) : (
        <div className="grid gap-1.5">
          <Label htmlFor={`${baseId}-repo`}>GitHub repository</Label>
          {listing.state === "loading" ? (
            <p className="flex items-center gap-2 text-muted-foreground text-sm">
              <Spinner label="Loading your repositories" /> Loading your repositories…
            </p>
          ) : listing.state === "failed" ? (
            <p role="alert" className="text-destructive text-sm">
              {listing.message}
            </p>
          ) : (
            <Select
              value={value.fullName || undefined}
              onValueChange={(fullName) => onChange({ kind: "github", fullName })}
            >
              <SelectTrigger
                id={`${baseId}-repo`}
                className="w-full"
                aria-invalid={repoError ? true : undefined}
              >
                <SelectValue
                  placeholder={listing.repos.length ? "Pick a repository" : "No repositories on this token"}
                />
              </SelectTrigger>
              <SelectContent>
                {listing.repos.map((repo) => (
                  <SelectItem key={repo.fullName} value={repo.fullName}>
                    {repo.fullName}
                    {repo.private ? " (private)" : ""}
                  </SelectItem>
                ))}
              </SelectContent>
            </Select>
          )}
          {repoError ? (
            <p role="alert" className="text-destructive text-xs">
              {repoError}
            </p>
          ) : null}
        </div>
      )}
      {fitErrors?.length ? (
        <div role="alert" className="rounded-md border border-destructive/40 bg-destructive/5 p-3 text-sm">
          <p className="font-medium text-destructive">This repository cannot be imported yet:</p>
          <ul className="mt-1 list-disc pl-5 text-destructive">
            {fitErrors.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <p className="text-muted-foreground text-xs">
        Kiln needs a package.json with <code>dev</code> and <code>build</code> scripts (<code>migrate</code>{" "}
        is optional). The repository is copied into a new project; yours is left unchanged.
      </p>
    </fieldset>
  );
}
