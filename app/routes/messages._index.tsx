import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { parseQuery } from "~/dashboard/http.server";
import { parsePageRequest, UUID_PATTERN } from "~/dashboard/keyset.server";
import {
  describeFilters,
  listMessages,
  listProviders,
  parseMessageFilters,
} from "~/dashboard/messages.server";
import { MAX_SEARCH_LENGTH } from "~/dashboard/constants";
import { CHANNELS } from "~/ingest/message";
import { CurlExample } from "~/components/curl-example";
import { MessageTable } from "~/components/message-table";
import {
  BUTTON_CLASS,
  EmptyState,
  INPUT_CLASS,
  PageHeading,
  Pager,
  SECONDARY_BUTTON_CLASS,
} from "~/components/ui";
import { useAutoRevalidate } from "~/components/use-auto-revalidate";

export const meta: MetaFunction = () => [{ title: "Messages · Webhook inbox" }];

const REFRESH_MS = 5_000;

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const params = new URL(request.url).searchParams;
  const { filters, page } = parseQuery(() => ({
    filters: parseMessageFilters(params),
    page: parsePageRequest(params, UUID_PATTERN),
  }));
  const app = await getApp();
  const [messages, providers] = await Promise.all([
    listMessages(app.pool, filters, page),
    listProviders(app.pool),
  ]);
  const filtered = describeFilters(filters);
  return {
    messages,
    providers,
    filtered,
    firstPage: page.cursor === null,
    origin: new URL(request.url).origin,
  };
}

export default function Messages() {
  const { messages, providers, filtered, firstPage, origin } =
    useLoaderData<typeof loader>();
  const [search] = useSearchParams();
  // Only the newest page refreshes: an older page would shift under the
  // reader, and its cursor already pins where it starts.
  useAutoRevalidate(firstPage, REFRESH_MS);

  const provider = search.get("provider") ?? "";
  const providerOptions =
    provider && !providers.includes(provider)
      ? [...providers, provider]
      : providers;

  return (
    <section>
      <PageHeading title="Messages">
        Every stored message, newest first. The first page refreshes every{" "}
        {REFRESH_MS / 1000} seconds.
      </PageHeading>

      <Form
        method="get"
        role="search"
        aria-label="Filter messages"
        className="mb-4 grid grid-cols-1 gap-3 rounded border border-slate-200 bg-white p-3 sm:grid-cols-2 lg:grid-cols-6"
      >
        <label className="block text-sm font-medium lg:col-span-2">
          Search
          <input
            type="search"
            name="q"
            defaultValue={search.get("q") ?? ""}
            maxLength={MAX_SEARCH_LENGTH}
            placeholder="Sender, recipient, subject or text"
            className={INPUT_CLASS}
          />
        </label>
        <label className="block text-sm font-medium">
          Channel
          <select
            name="channel"
            defaultValue={search.get("channel") ?? ""}
            className={INPUT_CLASS}
          >
            <option value="">All channels</option>
            {CHANNELS.map((channel) => (
              <option key={channel} value={channel}>
                {channel}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium">
          Provider
          <select
            name="provider"
            defaultValue={provider}
            className={INPUT_CLASS}
          >
            <option value="">All providers</option>
            {providerOptions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium">
          From (UTC)
          <input
            type="date"
            name="from"
            defaultValue={search.get("from") ?? ""}
            className={INPUT_CLASS}
          />
        </label>
        <label className="block text-sm font-medium">
          To (UTC, inclusive)
          <input
            type="date"
            name="to"
            defaultValue={search.get("to") ?? ""}
            className={INPUT_CLASS}
          />
        </label>
        <div className="flex gap-2 sm:col-span-2 lg:col-span-6">
          <button type="submit" className={BUTTON_CLASS}>
            Apply filters
          </button>
          <Link to="/messages" className={SECONDARY_BUTTON_CLASS}>
            Clear
          </Link>
        </div>
      </Form>

      {messages.rows.length > 0 ? (
        <MessageTable caption="Messages, newest first" rows={messages.rows} />
      ) : filtered.length > 0 ? (
        <EmptyState title="No messages match these filters">
          <p>Filters: {filtered.join(", ")}.</p>
          <p>
            <Link to="/messages" className="text-indigo-700 underline">
              Clear all filters
            </Link>{" "}
            or widen the date range.
          </p>
        </EmptyState>
      ) : firstPage ? (
        <EmptyState title="No messages yet">
          <p>Send a test message to the ingest endpoint:</p>
          <CurlExample origin={origin} />
        </EmptyState>
      ) : (
        <EmptyState title="No more messages on this page" />
      )}

      <Pager
        search={search}
        olderCursor={messages.olderCursor}
        newerCursor={messages.newerCursor}
      />
    </section>
  );
}
