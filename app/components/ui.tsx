import { Link } from "@remix-run/react";
import type { ReactNode } from "react";

/** Tailwind classes shared by the dashboard tables and forms. */
export const FOCUS_RING =
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2";
export const INPUT_CLASS = `mt-1 block w-full rounded border border-slate-300 bg-white px-2 py-1.5 text-sm ${FOCUS_RING}`;
export const BUTTON_CLASS = `rounded bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700 ${FOCUS_RING}`;
export const SECONDARY_BUTTON_CLASS = `rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 ${FOCUS_RING}`;
export const LINK_CLASS = `text-indigo-700 underline-offset-2 hover:underline ${FOCUS_RING} rounded`;

/** Renders a table that scrolls sideways on narrow screens. */
export function DataTable({
  caption,
  children,
}: {
  caption: string;
  children: ReactNode;
}) {
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="min-w-full divide-y divide-slate-200 text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        {children}
      </table>
    </div>
  );
}

/** Hides a column on phones. Put it on the header cell and on each cell. */
export const WIDE_SCREEN_ONLY = "hidden md:table-cell";

export function HeaderCell({
  children,
  className = "",
}: {
  children: ReactNode;
  className?: string;
}) {
  return (
    <th
      scope="col"
      className={`whitespace-nowrap bg-slate-50 px-3 py-2 font-semibold text-slate-700 ${className}`}
    >
      {children}
    </th>
  );
}

export function Cell({
  children,
  className = "",
}: {
  children: ReactNode;
  className?: string;
}) {
  return <td className={`px-3 py-2 align-top ${className}`}>{children}</td>;
}

export function PageHeading({
  title,
  children,
}: {
  title: string;
  children?: ReactNode;
}) {
  return (
    <div className="mb-4">
      <h1 className="text-2xl font-semibold">{title}</h1>
      {children ? (
        <p className="mt-1 max-w-3xl text-slate-600">{children}</p>
      ) : null}
    </div>
  );
}

export function EmptyState({
  title,
  children,
}: {
  title: string;
  children?: ReactNode;
}) {
  return (
    <div className="rounded border border-dashed border-slate-300 bg-white p-6">
      <h2 className="font-semibold">{title}</h2>
      {children ? (
        <div className="mt-2 space-y-2 text-sm text-slate-700">{children}</div>
      ) : null}
    </div>
  );
}

const CHANNEL_COLORS: Record<string, string> = {
  email: "bg-sky-100 text-sky-800",
  whatsapp: "bg-emerald-100 text-emerald-800",
  sms: "bg-amber-100 text-amber-800",
};

export function ChannelBadge({ channel }: { channel: string | null }) {
  const label = channel || "unknown";
  return (
    <span
      className={`inline-block rounded px-1.5 py-0.5 text-xs font-medium ${
        CHANNEL_COLORS[label] ?? "bg-slate-100 text-slate-700"
      }`}
    >
      {label}
    </span>
  );
}

/**
 * Older and Newer links of a keyset-paginated list. Each link keeps the
 * current filters and replaces the cursor parameter.
 */
export function Pager({
  search,
  olderCursor,
  newerCursor,
}: {
  search: URLSearchParams;
  olderCursor: string | null;
  newerCursor: string | null;
}) {
  const link = (name: "before" | "after", cursor: string) => {
    const params = new URLSearchParams(search);
    params.delete("before");
    params.delete("after");
    params.set(name, cursor);
    return `?${params.toString()}`;
  };
  const firstPage = new URLSearchParams(search);
  firstPage.delete("before");
  firstPage.delete("after");
  const onFirstPage = !search.has("before") && !search.has("after");
  return (
    <nav aria-label="Pagination" className="mt-4 flex flex-wrap gap-2">
      {!onFirstPage ? (
        <Link
          to={`?${firstPage.toString()}`}
          className={SECONDARY_BUTTON_CLASS}
        >
          Newest
        </Link>
      ) : null}
      {newerCursor ? (
        <Link
          to={link("after", newerCursor)}
          rel="prev"
          className={SECONDARY_BUTTON_CLASS}
        >
          ← Newer
        </Link>
      ) : null}
      {olderCursor ? (
        <Link
          to={link("before", olderCursor)}
          rel="next"
          className={SECONDARY_BUTTON_CLASS}
        >
          Older →
        </Link>
      ) : null}
    </nav>
  );
}
