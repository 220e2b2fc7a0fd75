"use client";

import { Trash2Icon } from "lucide-react";
import { useRouter } from "next/navigation";
import { toast } from "sonner";
import { deleteProjectAction } from "@/actions/projects";
import { ConfirmButton } from "@/components/settings/confirm-button";

export function DeleteProjectButton({ projectId, projectName }: { projectId: string; projectName: string }) {
  const router = useRouter();

  async function remove(): Promise<boolean> {
    const result = await deleteProjectAction({ projectId });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(`Deleted “${projectName}”`);
    router.replace("/projects");
    router.refresh();
    return true;
  }

  return (
    <ConfirmButton
      triggerVariant="outline"
      title={`Delete “${projectName}”?`}
      description="Its tasks, checkpoints, event history and share links are removed for good, its previews and deployments stop, and its databases (every branch) are deleted. A GitHub repository stays in your account. This cannot be undone."
      confirmLabel="Delete project"
      pendingLabel="Deleting"
      onConfirm={remove}
    >
      <Trash2Icon />
      Delete
    </ConfirmButton>
  );
}
