"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { setPasswordFromLink } from "@/actions/operator-links";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";

/** Sets the password a one-time link was made for, then goes to the dashboard signed in. */
export function SetPasswordForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get("password") ?? "");
    if (password !== String(form.get("confirm") ?? "")) {
      setError("The two passwords differ.");
      return;
    }
    startTransition(async () => {
      const result = await setPasswordFromLink({ token, password });
      if (!result.ok) {
        setError(result.error.fields?.password?.[0] ?? result.error.message);
        return;
      }
      router.replace("/projects");
      router.refresh();
    });
  }

  return (
    <form onSubmit={onSubmit} className="grid gap-4" noValidate>
      {error ? (
        <Alert variant="destructive">
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <div className="grid gap-2">
        <Label htmlFor="password">New password</Label>
        <Input
          id="password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
        />
        <p className="text-muted-foreground text-xs">At least 10 characters.</p>
      </div>
      <div className="grid gap-2">
        <Label htmlFor="confirm">Repeat it</Label>
        <Input id="confirm" name="confirm" type="password" autoComplete="new-password" required />
      </div>
      <Button type="submit" disabled={pending}>
        {pending ? <Spinner label="Setting your password" /> : null}
        Set password and sign in
      </Button>
    </form>
  );
}
