import { Badge } from "@/components/ui/badge";
import type { CardState, CardStatus } from "@/server/projects/card-status";

const tone: Record<CardState, "secondary" | "destructive" | "outline" | "success" | "warning"> = {
  live: "success",
  building: "warning",
  failed: "destructive",
  cancelled: "outline",
  new: "secondary",
};

/** A project card's status: live, building, or how the only attempts ended. */
export function CardStatusBadge({ status }: { status: CardStatus }) {
  return <Badge variant={tone[status.state]}>{status.label}</Badge>;
}
