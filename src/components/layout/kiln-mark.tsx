import { FlameIcon } from "lucide-react";

export function KilnMark({ className }: { className?: string }) {
  return (
    <span className={className}>
      <span className="inline-flex items-center gap-2 font-semibold tracking-tight">
        <span className="grid size-7 place-items-center rounded-md bg-primary text-primary-foreground">
          <FlameIcon className="size-4" aria-hidden />
        </span>
        Kiln
      </span>
    </span>
  );
}
