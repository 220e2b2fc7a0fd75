"use client";

import { SearchIcon } from "lucide-react";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";
import { Input } from "@/components/ui/input";

const DEBOUNCE_MS = 250;

/**
 * Filters the dashboard by name. The query lives in the URL (`?q=`) and the server filters, so a search can be
 * linked and reloaded; without JavaScript the form still submits it.
 */
export function ProjectSearch({ initial }: { initial: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const [value, setValue] = useState(initial);
  const [pending, startTransition] = useTransition();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  function search(query: string) {
    const trimmed = query.trim();
    startTransition(() => {
      router.replace(trimmed ? `${pathname}?q=${encodeURIComponent(trimmed)}` : pathname, { scroll: false });
    });
  }

  return (
    <search className="w-full sm:w-64">
      <form
        action={pathname}
        onSubmit={(event) => {
          event.preventDefault();
          clearTimeout(timer.current);
          search(value);
        }}
        className="relative"
      >
        <SearchIcon
          className="-translate-y-1/2 pointer-events-none absolute top-1/2 left-2.5 size-4 text-muted-foreground"
          aria-hidden
        />
        <Input
          type="search"
          name="q"
          aria-label="Search projects"
          placeholder="Search projects"
          value={value}
          maxLength={120}
          onChange={(event) => {
            const next = event.target.value;
            setValue(next);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => search(next), DEBOUNCE_MS);
          }}
          aria-busy={pending || undefined}
          className="pl-8"
        />
      </form>
    </search>
  );
}
