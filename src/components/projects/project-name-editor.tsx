"use client";

import { CheckIcon, PencilIcon, XIcon } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { renameProjectAction } from "@/actions/projects";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";

/**
 * A project's name as a heading, with a pencil that turns it into an input (Enter saves, Escape cancels). With
 * `href`, the name is a link that covers its positioned ancestor (a dashboard card); the controls sit above it.
 */
export function ProjectNameEditor({
  projectId,
  name,
  as: Heading = "h2",
  href,
  className,
}: {
  projectId: string;
  name: string;
  as?: "h1" | "h2";
  href?: string;
  className?: string;
}) {
  const router = useRouter();
  const inputId = useId();
  const [shown, setShown] = useState(name);
  const [draft, setDraft] = useState(name);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  // A refresh (or another tab's rename) brings a new name from the server.
  useEffect(() => setShown(name), [name]);

  function startEditing() {
    setDraft(shown);
    setError(null);
    setEditing(true);
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (draft.trim() === shown) {
      setEditing(false);
      return;
    }
    startTransition(async () => {
      const result = await renameProjectAction({ projectId, name: draft });
      if (!result.ok) {
        setError(result.error.fields?.name?.[0] ?? result.error.message);
        return;
      }
      setShown(result.data.name);
      setEditing(false);
      setError(null);
      toast.success(`Renamed to “${result.data.name}”`);
      router.refresh();
    });
  }

  if (editing) {
    return (
      <form onSubmit={onSubmit} className="relative z-10 grid w-full gap-1" aria-label="Rename project">
        <div className="flex items-center gap-1">
          <Input
            id={inputId}
            aria-label="Project name"
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape") setEditing(false);
            }}
            // The operator just asked to edit this field: focus follows the click on the pencil.
            autoFocus
            onFocus={(event) => event.currentTarget.select()}
            maxLength={200}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${inputId}-error` : undefined}
            disabled={pending}
            className="h-8"
          />
          <Button type="submit" size="icon" variant="ghost" className="size-8" disabled={pending}>
            {pending ? <Spinner label="Saving the name" /> : <CheckIcon aria-hidden />}
            <span className="sr-only">Save name</span>
          </Button>
          <Button
            type="button"
            size="icon"
            variant="ghost"
            className="size-8"
            onClick={() => setEditing(false)}
            disabled={pending}
          >
            <XIcon aria-hidden />
            <span className="sr-only">Cancel renaming</span>
          </Button>
        </div>
        {error ? (
          <p id={`${inputId}-error`} role="alert" className="text-destructive text-sm">
            {error}
          </p>
        ) : null}
      </form>
    );
  }

  return (
    <div className="flex min-w-0 items-start gap-1">
      <Heading className={cn("min-w-0 break-words", className)}>
        {href ? (
          <Link
            href={href}
            className="after:absolute after:inset-0 after:content-[''] focus-visible:outline-none"
          >
            {shown}
          </Link>
        ) : (
          shown
        )}
      </Heading>
      <Button
        type="button"
        size="icon"
        variant="ghost"
        className="relative z-10 size-7 shrink-0 text-muted-foreground"
        onClick={startEditing}
        aria-label={`Rename “${shown}”`}
        title="Rename"
      >
        <PencilIcon className="size-3.5" aria-hidden />
      </Button>
    </div>
  );
}
