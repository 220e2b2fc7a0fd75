"use client";

import { useRouter } from "next/navigation";
import { type ReactNode, useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { createOperatorAction, resetOperatorPasswordAction, updateOperatorAction } from "@/actions/admin";
import { ConfirmButton } from "@/components/settings/confirm-button";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { cn } from "@/lib/utils";
import type { OperatorRole } from "@/server/auth/roles";
import { OperatorLinkDialog, type ShownLink } from "./operator-link-dialog";

export type OperatorRow = {
  id: string;
  email: string;
  name: string | null;
  role: OperatorRole;
  disabled: boolean;
  projectCount: number;
  createdAt: string;
  lastActive: string;
};

function RoleBadges({ operator, className }: { operator: OperatorRow; className?: string }) {
  return (
    <div className={cn("flex flex-wrap gap-1", className)}>
      <Badge variant={operator.role === "admin" ? "default" : "secondary"}>
        {operator.role === "admin" ? "Admin" : "Operator"}
      </Badge>
      {operator.disabled ? <Badge variant="destructive">Disabled</Badge> : null}
    </div>
  );
}

type Change = { disabled?: boolean; role?: OperatorRole };

export function OperatorsPanel(props: {
  operators: OperatorRow[];
  currentUserId: string;
  /**
   * Per-operator controls owned by other features, keyed by operator id, shown in the row's actions (the quota
   * editor goes here).
   */
  rowSlots?: Record<string, ReactNode>;
}) {
  const router = useRouter();
  const ids = { email: useId(), name: useId(), password: useId(), role: useId() };
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<OperatorRole>("operator");
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [link, setLink] = useState<ShownLink | null>(null);
  const [pending, startTransition] = useTransition();

  function onCreate(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    startTransition(async () => {
      const result = await createOperatorAction({
        email,
        name: name.trim() || undefined,
        role,
        password: password === "" ? undefined : password,
      });
      if (!result.ok) {
        const fields = result.error.fields;
        setErrors({
          email: fields?.email?.[0],
          password: fields?.password?.[0],
          form: fields?.email || fields?.password ? undefined : result.error.message,
        });
        return;
      }
      setErrors({});
      setEmail("");
      setName("");
      setPassword("");
      setRole("operator");
      if (result.data.invite) {
        setLink({ title: "Invite link", email: result.data.email, ...result.data.invite });
      } else {
        toast.success(`Created ${result.data.email}`);
      }
      router.refresh();
    });
  }

  async function change(operator: OperatorRow, what: Change, done: string): Promise<boolean> {
    const result = await updateOperatorAction({ userId: operator.id, change: what });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(done);
    router.refresh();
    return true;
  }

  async function reset(operator: OperatorRow): Promise<boolean> {
    const result = await resetOperatorPasswordAction({ userId: operator.id });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    setLink({ title: "Password reset link", email: operator.email, ...result.data });
    router.refresh();
    return true;
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Operators</CardTitle>
        <CardDescription>
          Admins manage operators and read the audit log. Leave the password empty to get a one-time invite
          link that lets the new operator choose their own.
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-6">
        <form
          onSubmit={onCreate}
          aria-label="Add operator"
          className="grid gap-3 md:grid-cols-[1fr_1fr_1fr_auto_auto]"
        >
          <div className="grid gap-1.5">
            <Label htmlFor={ids.email}>Email</Label>
            <Input
              id={ids.email}
              type="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              placeholder="grace@example.com"
              maxLength={254}
              required
              aria-invalid={errors.email ? true : undefined}
            />
            {errors.email ? <p className="text-destructive text-sm">{errors.email}</p> : null}
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor={ids.name}>Name (optional)</Label>
            <Input
              id={ids.name}
              value={name}
              onChange={(event) => setName(event.target.value)}
              maxLength={120}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor={ids.password}>Password (optional)</Label>
            <Input
              id={ids.password}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              placeholder="Empty: invite link"
              maxLength={72}
              aria-invalid={errors.password ? true : undefined}
            />
            {errors.password ? <p className="text-destructive text-sm">{errors.password}</p> : null}
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor={ids.role}>Role</Label>
            <Select value={role} onValueChange={(value) => setRole(value === "admin" ? "admin" : "operator")}>
              <SelectTrigger id={ids.role} className="w-full md:w-32">
                <SelectValue />
              </SelectTrigger>
              <SelectContent>
                <SelectItem value="operator">Operator</SelectItem>
                <SelectItem value="admin">Admin</SelectItem>
              </SelectContent>
            </Select>
          </div>
          <div className="flex items-end">
            <Button type="submit" disabled={pending} className="w-full md:w-auto">
              {password === "" ? "Invite" : "Create"}
            </Button>
          </div>
        </form>
        {errors.form ? (
          <p role="alert" className="text-destructive text-sm">
            {errors.form}
          </p>
        ) : null}
        <Table>
          <TableHeader>
            <TableRow>
              <TableHead>Operator</TableHead>
              <TableHead className="hidden sm:table-cell">Role</TableHead>
              <TableHead className="hidden md:table-cell">Projects</TableHead>
              <TableHead className="hidden md:table-cell">Last active</TableHead>
              <TableHead className="hidden lg:table-cell">Added</TableHead>
              <TableHead className="text-right">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {props.operators.map((operator) => {
              const isSelf = operator.id === props.currentUserId;
              const who = operator.name ? `${operator.name} (${operator.email})` : operator.email;
              return (
                <TableRow key={operator.id} data-operator={operator.email}>
                  <TableCell className="max-w-56 whitespace-normal">
                    <div className="break-all font-medium">{operator.email}</div>
                    {operator.name ? (
                      <div className="text-muted-foreground text-xs">{operator.name}</div>
                    ) : null}
                    {isSelf ? <div className="text-muted-foreground text-xs">You</div> : null}
                    <RoleBadges operator={operator} className="mt-1 sm:hidden" />
                  </TableCell>
                  <TableCell className="hidden sm:table-cell">
                    <RoleBadges operator={operator} />
                  </TableCell>
                  <TableCell className="hidden md:table-cell">{operator.projectCount}</TableCell>
                  <TableCell className="hidden md:table-cell">{operator.lastActive}</TableCell>
                  <TableCell className="hidden lg:table-cell">{operator.createdAt}</TableCell>
                  <TableCell>
                    <div className="flex flex-wrap justify-end gap-1">
                      {operator.role === "admin" ? (
                        <Button
                          variant="ghost"
                          size="sm"
                          aria-label={`Make ${operator.email} an operator`}
                          onClick={() =>
                            change(operator, { role: "operator" }, `${operator.email} is now an operator`)
                          }
                        >
                          Make operator
                        </Button>
                      ) : (
                        <Button
                          variant="ghost"
                          size="sm"
                          aria-label={`Make ${operator.email} an admin`}
                          onClick={() =>
                            change(operator, { role: "admin" }, `${operator.email} is now an admin`)
                          }
                        >
                          Make admin
                        </Button>
                      )}
                      <ConfirmButton
                        label={`Reset the password of ${operator.email}`}
                        title={`Reset the password of ${who}?`}
                        description="Their sessions end now and you get a one-time link that sets a new password. Their current password works until the link is used."
                        confirmLabel="Reset password"
                        pendingLabel="Resetting"
                        onConfirm={() => reset(operator)}
                      >
                        Reset password
                      </ConfirmButton>
                      {operator.disabled ? (
                        <Button
                          variant="ghost"
                          size="sm"
                          aria-label={`Enable ${operator.email}`}
                          onClick={() => change(operator, { disabled: false }, `Enabled ${operator.email}`)}
                        >
                          Enable
                        </Button>
                      ) : (
                        <ConfirmButton
                          label={`Disable ${operator.email}`}
                          title={`Disable ${who}?`}
                          description="They are signed out at once, their API tokens stop working and their running builds are cancelled. Their projects stay. You can enable them again."
                          confirmLabel="Disable operator"
                          pendingLabel="Disabling"
                          onConfirm={() => change(operator, { disabled: true }, `Disabled ${operator.email}`)}
                        >
                          Disable
                        </ConfirmButton>
                      )}
                      {props.rowSlots?.[operator.id]}
                    </div>
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </CardContent>
      <OperatorLinkDialog link={link} onClose={() => setLink(null)} />
    </Card>
  );
}
