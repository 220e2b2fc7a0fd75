import type { Metadata } from "next";
import Link from "next/link";
import { SetPasswordForm } from "@/components/auth/set-password-form";
import { KilnMark } from "@/components/layout/kiln-mark";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { findOperatorLinkEmail } from "@/server/admin/operator-links";
import { getPlatform } from "@/server/platform/get-platform";

export const metadata: Metadata = { title: "Set your password", referrer: "no-referrer" };

// Public by design: the one-time link is the proof. A link that no longer works says so and nothing more.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const { db } = await getPlatform();
  const email = await findOperatorLinkEmail(db, token);
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-6 bg-muted/40 p-4">
      <KilnMark className="text-lg" />
      <Card className="w-full max-w-sm">
        {email ? (
          <>
            <CardHeader>
              <CardTitle>Set your password</CardTitle>
              <CardDescription>
                For <span className="font-medium text-foreground">{email}</span> on this Kiln. This link works
                once.
              </CardDescription>
            </CardHeader>
            <CardContent>
              <SetPasswordForm token={token} email={email} />
            </CardContent>
          </>
        ) : (
          <>
            <CardHeader>
              <CardTitle>This link no longer works</CardTitle>
              <CardDescription>
                It was already used, it expired, or a newer one replaced it. Ask an admin of this Kiln for a
                new one.
              </CardDescription>
            </CardHeader>
            <CardContent>
              <Button asChild variant="outline" className="w-full">
                <Link href="/login">Go to sign in</Link>
              </Button>
            </CardContent>
          </>
        )}
      </Card>
    </main>
  );
}
