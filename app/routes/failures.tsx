import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { parseQuery } from "~/dashboard/http.server";
import { BIGINT_ID_PATTERN, parsePageRequest } from "~/dashboard/keyset.server";
import { FAILURE_OUTCOMES } from "~/dashboard/constants";
import { listFailures, parseFailureOutcome } from "~/dashboard/requests.server";
import { formatTime } from "~/components/format";
import {
  BUTTON_CLASS,
  Cell,
  ChannelBadge,
  DataTable,
  EmptyState,
  HeaderCell,
  INPUT_CLASS,
  PageHeading,
  Pager,
} from "~/components/ui";

export const meta: MetaFunction = () => [
  { title: "Failed requests · Webhook inbox" },
];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const params = new URL(request.url).searchParams;
  const { outcome, page } = parseQuery(() => ({
    outcome: parseFailureOutcome(params),
    page: parsePageRequest(params, BIGINT_ID_PATTERN),
  }));
  const app = await getApp();
  const failures = await listFailures(app.pool, outcome, page);
  return { failures, outcome };
}

export default function Failures() {
  const { failures, outcome } = useLoaderData<typeof loader>();
  const [search] = useSearchParams();
  return (
    <section>
      <PageHeading title="Failed requests">
        Webhook requests that were rejected, with the reason. If a message did
        not show up, look for its request here.
      </PageHeading>

      <Form
        method="get"
        aria-label="Filter failed requests"
        className="mb-4 flex flex-wrap items-end gap-3 rounded border border-slate-200 bg-white p-3"
      >
        <label className="block text-sm font-medium">
          Outcome
          <select
            name="outcome"
            defaultValue={outcome ?? ""}
            className={INPUT_CLASS}
          >
            <option value="">All failures</option>
            {FAILURE_OUTCOMES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className={BUTTON_CLASS}>
          Apply filter
        </button>
      </Form>

      {failures.rows.length === 0 ? (
        <EmptyState
          title={
            outcome
              ? `No failed requests with outcome ${outcome}`
              : "No failed requests"
          }
        />
      ) : (
        <DataTable caption="Failed requests, newest first">
          <thead>
            <tr>
              <HeaderCell>Received</HeaderCell>
              <HeaderCell>Request</HeaderCell>
              <HeaderCell>Status</HeaderCell>
              <HeaderCell>Outcome</HeaderCell>
              <HeaderCell>Cause</HeaderCell>
              <HeaderCell>Body excerpt</HeaderCell>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {failures.rows.map((row) => (
              <tr key={row.id}>
                <Cell className="whitespace-nowrap">
                  {formatTime(row.receivedAt)}
                </Cell>
                <Cell className="break-all">
                  {row.method} {row.path}
                  <span className="block text-xs text-slate-500">
                    {row.provider ?? "no provider"}
                    {row.contentType ? ` · ${row.contentType}` : ""}
                  </span>
                  {row.channel ? <ChannelBadge channel={row.channel} /> : null}
                </Cell>
                <Cell className="tabular-nums">{row.status}</Cell>
                <Cell>{row.outcome}</Cell>
                <Cell className="min-w-[14rem] break-words">
                  {row.errorMessage ?? "–"}
                </Cell>
                <Cell className="min-w-[12rem]">
                  {/* The excerpt is untrusted request text: React escapes
                      it, and it is never rendered as HTML. */}
                  {row.excerpt ? (
                    <pre className="max-h-32 overflow-auto whitespace-pre-wrap break-all text-xs">
                      {row.excerpt}
                    </pre>
                  ) : (
                    "–"
                  )}
                </Cell>
              </tr>
            ))}
          </tbody>
        </DataTable>
      )}
      <Pager
        search={search}
        olderCursor={failures.olderCursor}
        newerCursor={failures.newerCursor}
      />
    </section>
  );
}
