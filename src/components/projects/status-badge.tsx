import { Badge } from "@/components/ui/badge";

const tone: Record<string, "default" | "secondary" | "destructive" | "outline" | "success" | "warning"> = {
  queued: "secondary",
  finished: "success",
  failed: "destructive",
  cancelled: "outline",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant={tone[status] ?? "warning"} className="capitalize">
      {status}
    </Badge>
  );
}
