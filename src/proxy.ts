import { type NextRequest, NextResponse } from "next/server";

// A convenience only: sends visitors without a session cookie to the login page before rendering anything.
// Every page, action and route handler still checks the session itself.
export function proxy(request: NextRequest) {
  if (request.cookies.has("kiln_session")) return NextResponse.next();
  const login = new URL("/login", request.url);
  login.searchParams.set("next", `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.redirect(login);
}

export const config = {
  matcher: ["/projects", "/projects/:path*", "/settings", "/settings/:path*", "/admin", "/admin/:path*"],
};
