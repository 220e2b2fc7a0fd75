import Link from "next/link";
import { KilnMark } from "@/components/layout/kiln-mark";
import { HeaderFrame, MainFrame } from "@/components/layout/main-frame";
import { MainNav } from "@/components/layout/main-nav";
import { PauseBanner } from "@/components/layout/pause-banner";
import { UserMenu } from "@/components/layout/user-menu";
import { ThemeToggle } from "@/components/theme-toggle";
import { requireOperatorOrRedirect } from "@/server/entry/current-user";
import { toPauseDto } from "@/server/governance/pause-dto";
import { getPlatform } from "@/server/platform/get-platform";

export default async function MainLayout({ children }: { children: React.ReactNode }) {
  // Each page checks the session itself too; the layout needs the operator for the header.
  const operator = await requireOperatorOrRedirect("/projects");
  const pause = toPauseDto(await (await getPlatform()).pause.current());
  return (
    // At least the window's height; exactly it while a workspace is shown (MainFrame marks it), so that page never
    // scrolls and its panes share what the header (and the pause banner) leave.
    <div className="flex min-h-dvh flex-col has-[main[data-workspace]]:h-dvh">
      <header className="sticky top-0 z-30 border-b bg-background/90 backdrop-blur">
        <HeaderFrame>
          <Link href="/projects" className="rounded-md focus-visible:outline-2 focus-visible:outline-ring">
            <KilnMark />
          </Link>
          <MainNav isAdmin={operator.isAdmin} />
          <div className="ml-auto flex items-center gap-1">
            <ThemeToggle />
            <UserMenu email={operator.email} />
          </div>
        </HeaderFrame>
        <PauseBanner pause={pause} />
      </header>
      <MainFrame>{children}</MainFrame>
    </div>
  );
}
