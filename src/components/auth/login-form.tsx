"use client";

import { useRouter } from "next/navigation";
import { useActionState, useState, useTransition } from "react";
import { signIn, signInWithForm } from "@/actions/auth";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { type LoginErrors, loginErrors, noLoginErrors } from "./login-errors";

function FieldError({ id, message }: { id: string; message: string | null }) {
  if (!message) return null;
  return (
    <p id={id} className="text-destructive text-sm">
      {message}
    </p>
  );
}

export function LoginForm({ returnTo }: { returnTo: string }) {
  const router = useRouter();
  const [errors, setErrors] = useState<LoginErrors | null>(null);
  const [pending, startTransition] = useTransition();
  // Before hydration the browser submits the form itself: `action` makes that a POST to a server action (a form
  // without one does a GET, which put the password in the URL, history and logs). Once hydrated, onSubmit takes
  // over and keeps what was typed on a failure, which a form action would reset.
  const [formState, formAction] = useActionState(signInWithForm, null);

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    startTransition(async () => {
      const result = await signIn({
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
      });
      if (!result.ok) {
        setErrors(loginErrors(result.error));
        return;
      }
      router.replace(returnTo);
      router.refresh();
    });
  }

  const shown = errors ?? (formState && !formState.ok ? loginErrors(formState.error) : null) ?? noLoginErrors;
  return (
    <form action={formAction} onSubmit={onSubmit} className="grid gap-4" noValidate>
      {shown.form ? (
        <Alert variant="destructive">
          <AlertDescription>{shown.form}</AlertDescription>
        </Alert>
      ) : null}
      <input type="hidden" name="next" value={returnTo} />
      <div className="grid gap-2">
        <Label htmlFor="email">Email</Label>
        <Input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          aria-invalid={shown.email ? true : undefined}
          aria-describedby={shown.email ? "email-error" : undefined}
        />
        <FieldError id="email-error" message={shown.email} />
      </div>
      <div className="grid gap-2">
        <Label htmlFor="password">Password</Label>
        <Input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          aria-invalid={shown.password ? true : undefined}
          aria-describedby={shown.password ? "password-error" : undefined}
        />
        <FieldError id="password-error" message={shown.password} />
      </div>
      <Button type="submit" disabled={pending}>
        {pending ? <Spinner label="Signing in" /> : null}
        Sign in
      </Button>
    </form>
  );
}
