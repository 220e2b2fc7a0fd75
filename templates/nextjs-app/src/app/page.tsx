import { CircleAlertIcon, CircleCheckIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { dbLabel, getDatabaseHealth } from "@/db";
import { appInfo } from "@/lib/app-info";

// The database status is live, so this page renders on every request instead of once at build time.
export const dynamic = "force-dynamic";

export default async function HomePage() {
  const health = await getDatabaseHealth();

  return (
    <main className="mx-auto flex min-h-dvh w-full max-w-2xl flex-col justify-center gap-10 px-6 py-16">
      <header className="space-y-3">
        <h1 className="text-balance font-semibold text-4xl tracking-tight sm:text-5xl">{appInfo.name}</h1>
        <p className="text-pretty text-lg text-muted-foreground">{appInfo.description}</p>
      </header>

      <Card>
        <CardHeader>
          <CardTitle>Ready to be built on</CardTitle>
          <CardDescription>
            The foundations are in place: pages, a database with migrations, and a small component kit.
            Describe what this app should do, and it takes shape here.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <dl className="divide-y text-sm">
            <div className="flex items-center justify-between gap-4 py-3 first:pt-0">
              <dt className="text-muted-foreground">Database</dt>
              <dd>
                {health.ok ? (
                  <Badge variant="success">
                    <CircleCheckIcon aria-hidden="true" />
                    Connected
                  </Badge>
                ) : (
                  <Badge variant="warning">
                    <CircleAlertIcon aria-hidden="true" />
                    Unavailable
                  </Badge>
                )}
              </dd>
            </div>
            <div className="flex items-center justify-between gap-4 py-3 last:pb-0">
              <dt className="text-muted-foreground">Engine</dt>
              <dd className="font-medium">{dbLabel}</dd>
            </div>
          </dl>
        </CardContent>
      </Card>
    </main>
  );
}
