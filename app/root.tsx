import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { getOptionalUser } from "~/auth/guard.server";
import { AppShell } from "~/components/app-shell";
import { useNonce } from "~/components/nonce";
import stylesheet from "~/tailwind.css?url";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  return { user: user ? { email: user.email, role: user.role } : null };
}

export function Layout({ children }: { children: ReactNode }) {
  const data = useRouteLoaderData<typeof loader>("root");
  const nonce = useNonce();
  return (
    <html lang="en" className="h-full bg-slate-50">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full font-sans text-slate-900">
        <AppShell user={data?.user ?? null}>{children}</AppShell>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const title = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : "Error";
  const detail = isRouteErrorResponse(error)
    ? errorResponseMessage(error.data)
    : "Something went wrong. The error was logged.";
  return (
    <section className="mx-auto max-w-xl">
      <h1 className="text-2xl font-semibold">{title}</h1>
      {detail ? <p className="mt-2 text-slate-700">{detail}</p> : null}
    </section>
  );
}

/** Extracts the text of a thrown response: a string body or a JSON `message`. */
function errorResponseMessage(data: unknown): string | null {
  if (typeof data === "string") return data;
  if (typeof data === "object" && data !== null && "message" in data) {
    return typeof data.message === "string" ? data.message : null;
  }
  return null;
}
