"use client";

import { useTheme } from "next-themes";
import type * as React from "react";
import { Toaster as SonnerToaster, type ToasterProps } from "sonner";

type SonnerTheme = NonNullable<ToasterProps["theme"]>;

function toSonnerTheme(theme: string | undefined): SonnerTheme {
  return theme === "light" || theme === "dark" ? theme : "system";
}

/** Map sonner's colour variables onto the kit's tokens so toasts match popovers. */
const toasterStyle: React.CSSProperties & Record<`--${string}`, string> = {
  "--normal-bg": "var(--popover)",
  "--normal-text": "var(--popover-foreground)",
  "--normal-border": "var(--border)",
  "--border-radius": "var(--radius)",
};

/**
 * App-wide toast outlet. Render once (e.g. in the root layout, inside ThemeProvider) and call
 * `toast()` from "sonner" anywhere on the client. Follows the next-themes theme.
 */
function Toaster({ style, ...props }: ToasterProps) {
  const { theme } = useTheme();

  return (
    <SonnerToaster
      data-slot="toaster"
      theme={toSonnerTheme(theme)}
      className="toaster group"
      style={{ ...toasterStyle, ...style }}
      {...props}
    />
  );
}

export { Toaster };
