"use client";

import { PlusIcon } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import type { ProviderAvailability } from "@/server/integrations/providers";
import { type AgentChoices, NewProjectForm } from "./new-project-form";

export function NewProjectDialog({
  availability,
  agents,
}: {
  availability: ProviderAvailability;
  agents: AgentChoices;
}) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button>
          <PlusIcon />
          New project
        </Button>
      </DialogTrigger>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>New project</DialogTitle>
          <DialogDescription>Describe the app. Kiln plans it, builds it and previews it.</DialogDescription>
        </DialogHeader>
        <NewProjectForm availability={availability} agents={agents} onCreated={() => setOpen(false)} />
      </DialogContent>
    </Dialog>
  );
}
