"use client";

import { CopyIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { createApiTokenAction, revokeApiTokenAction } from "@/actions/api-tokens";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { ConfirmButton } from "./confirm-button";

export type ApiTokenRow = {
  id: string;
  name: string;
  displayPrefix: string;
  createdAt: string;
  lastUsed: string;
};

export function ApiTokensPanel({ tokens }: { tokens: ApiTokenRow[] }) {
  const router = useRouter();
  const nameId = useId();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function onCreate(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    startTransition(async () => {
      const result = await createApiTokenAction({ name });
      if (!result.ok) {
        setError(result.error.fields?.name?.[0] ?? result.error.message);
        return;
      }
      setError(null);
      setName("");
      setCreated(result.data.token);
      router.refresh();
    });
  }

  async function onRevoke(token: ApiTokenRow): Promise<boolean> {
    const result = await revokeApiTokenAction({ tokenId: token.id });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(`Revoked “${token.name}”`);
    router.refresh();
    return true;
  }

  async function copy() {
    if (!created) return;
    await navigator.clipboard.writeText(created);
    toast.success("Token copied");
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>API tokens</CardTitle>
        <CardDescription>
          For scripts and CI: send <code className="font-mono">Authorization: Bearer kiln_…</code> to{" "}
          <code className="font-mono">/api/v1</code>. A token acts as you; it is shown once.
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        <form onSubmit={onCreate} className="flex flex-wrap items-end gap-2" aria-label="Create API token">
          <div className="grid min-w-56 flex-1 gap-1.5">
            <Label htmlFor={nameId}>Token name</Label>
            <Input
              id={nameId}
              value={name}
              onChange={(event) => setName(event.target.value)}
              placeholder="ci-deploys"
              maxLength={100}
              aria-invalid={error ? true : undefined}
            />
          </div>
          <Button type="submit" disabled={pending}>
            Create token
          </Button>
        </form>
        {error ? (
          <p role="alert" className="text-destructive text-sm">
            {error}
          </p>
        ) : null}
        {tokens.length === 0 ? (
          <p className="text-muted-foreground text-sm">No API tokens yet.</p>
        ) : (
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Name</TableHead>
                <TableHead>Token</TableHead>
                <TableHead className="hidden sm:table-cell">Created</TableHead>
                <TableHead className="hidden sm:table-cell">Last used</TableHead>
                <TableHead>
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {tokens.map((token) => (
                <TableRow key={token.id}>
                  <TableCell>{token.name}</TableCell>
                  <TableCell className="font-mono text-xs">{token.displayPrefix}</TableCell>
                  <TableCell className="hidden sm:table-cell">{token.createdAt}</TableCell>
                  <TableCell className="hidden sm:table-cell">{token.lastUsed}</TableCell>
                  <TableCell className="text-right">
                    <ConfirmButton
                      label={`Revoke ${token.name}`}
                      title={`Revoke “${token.name}”?`}
                      description="Anything using this token (scripts, CI) gets 401 from its next request on. This cannot be undone: a new token has a new secret."
                      confirmLabel="Revoke token"
                      pendingLabel="Revoking"
                      disabled={pending}
                      onConfirm={() => onRevoke(token)}
                    >
                      Revoke
                    </ConfirmButton>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
      <Dialog open={created !== null} onOpenChange={(open) => (open ? undefined : setCreated(null))}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Copy your new token</DialogTitle>
            <DialogDescription>This is the only time it is shown. Store it somewhere safe.</DialogDescription>
          </DialogHeader>
          <div className="flex items-center gap-2">
            <Input readOnly value={created ?? ""} className="font-mono text-xs" aria-label="New API token" />
            <Button variant="outline" size="icon" onClick={copy} aria-label="Copy token">
              <CopyIcon />
            </Button>
          </div>
          <DialogFooter>
            <Button onClick={() => setCreated(null)}>Done</Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </Card>
  );
}
