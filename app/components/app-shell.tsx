import { Form, NavLink } from "@remix-run/react";
import type { ReactNode } from "react";

export interface ShellUser {
  email: string;
  role: "viewer" | "developer" | "admin";
}

const NAV_ITEMS: { to: string; label: string; minRole?: ShellUser["role"] }[] =
  [
    { to: "/", label: "Overview" },
    { to: "/messages", label: "Messages" },
    { to: "/duplicates", label: "Duplicates" },
    { to: "/failures", label: "Failures" },
    { to: "/latency", label: "Latency" },
    { to: "/send/email", label: "Test send", minRole: "developer" },
    { to: "/users", label: "Users", minRole: "admin" },
  ];

const RANK = { viewer: 0, developer: 1, admin: 2 } as const;

/** The page frame of the dashboard: navigation, the signed-in user, content. */
export function AppShell({
  user,
  children,
}: {
  user: ShellUser | null;
  children: ReactNode;
}) {
  const items = NAV_ITEMS.filter(
    (item) =>
      !item.minRole || (user !== null && RANK[user.role] >= RANK[item.minRole]),
  );
  return (
    <div className="min-h-full">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <NavLink to="/" className="text-lg font-semibold text-slate-900">
            Webhook inbox
          </NavLink>
          {user ? (
            <nav aria-label="Main" className="flex flex-wrap gap-1">
              {items.map((item) => (
                <NavLink
                  key={item.to}
                  to={item.to}
                  end={item.to === "/"}
                  prefetch="intent"
                  className={({ isActive }) =>
                    `rounded px-3 py-1.5 text-sm font-medium ${
                      isActive
                        ? "bg-indigo-50 text-indigo-700"
                        : "text-slate-700 hover:bg-slate-100"
                    }`
                  }
                >
                  {item.label}
                </NavLink>
              ))}
            </nav>
          ) : null}
          {user ? (
            <Form
              method="post"
              action="/logout"
              className="ml-auto flex items-center gap-3"
            >
              <span className="text-sm text-slate-600">
                {user.email}{" "}
                <span className="text-slate-400">({user.role})</span>
              </span>
              <button
                type="submit"
                className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100"
              >
                Log out
              </button>
            </Form>
          ) : null}
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
    </div>
  );
}
