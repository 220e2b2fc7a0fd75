import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/login-form";
import { KilnMark } from "@/components/layout/kiln-mark";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { safeReturnPath } from "@/lib/safe-return-path";
import { getCurrentOperator } from "@/server/entry/current-user";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string | string[] }>;
}) {
  const { next } = await searchParams;
  const returnTo = safeReturnPath(typeof next === "string" ? next : undefined);
  if (await getCurrentOperator()) redirect(returnTo);
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-6 bg-muted/40 p-4">
      <KilnMark className="text-lg" />
      <Card className="w-full max-w-sm">
        <CardHeader>
          <CardTitle>Sign in</CardTitle>
          <CardDescription>Use the operator account created for you on this Kiln.</CardDescription>
        </CardHeader>
        <CardContent>
          <LoginForm returnTo={returnTo} />
        </CardContent>
      </Card>
    </main>
  );
}
