import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
  MetaFunction,
} from "@remix-run/node";
import { data } from "@remix-run/node";
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useNavigation,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { getOptionalUser, requireRole } from "~/auth/guard.server";
import { hasRole } from "~/auth/roles";
import { TEXT_PREVIEW_LENGTH } from "~/ingest/message";
import { getApp } from "~/boot.server";
import { REPLAY_MODES, type ReplayMode } from "~/dashboard/constants";
import { getMessageDetail } from "~/dashboard/message-detail.server";
import { replayMessage } from "~/dashboard/replay.server";
import { formatTime } from "~/components/format";
import {
  HeadersBlock,
  MediaList,
  PayloadBlock,
  ReplayList,
  RequestTimeline,
  StatusEvents,
} from "~/components/message-sections";
import {
  ReplayResult,
  type ReplayResultData,
} from "~/components/replay-result";
import {
  BUTTON_CLASS,
  ChannelBadge,
  LINK_CLASS,
  SECONDARY_BUTTON_CLASS,
} from "~/components/ui";

export const meta: MetaFunction = () => [{ title: "Message · Webhook inbox" }];

function notFound(id: string): never {
  throw data(
    `No message has the id ${JSON.stringify(id)}. Find it in the message log.`,
    { status: 404, statusText: "Not Found" },
  );
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  const id = params.id ?? "";
  const app = await getApp();
  const detail = await getMessageDetail(app.pool, id);
  if (!detail) notFound(id);
  const user = await getOptionalUser(request);
  return {
    ...detail,
    canReplay: user !== null && hasRole(user.role, "developer"),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  await requireRole(request, "developer");
  const id = params.id ?? "";
  const form = await request.formData();
  const mode = form.get("mode");
  if (typeof mode !== "string" || !REPLAY_MODES.includes(mode as ReplayMode)) {
    return data<ReplayResultData>(
      {
        kind: "invalid",
        error: `mode must be one of ${REPLAY_MODES.join(", ")}, got ${JSON.stringify(mode)}.`,
      },
      { status: 400 },
    );
  }
  const app = await getApp();
  // The replay goes to this process's own listening address. Only under
  // `remix vite:dev`, where that is unknown, does it fall back to the
  // request's origin, which the Host header decides.
  const origin = app.listenUrl ?? new URL(request.url).origin;
  const result = await replayMessage(app.pool, id, mode as ReplayMode, origin);
  if (!result) notFound(id);
  return data<ReplayResultData>(result);
}

export default function MessageDetailPage() {
  const { message, statusEvents, replays, timeline, canReplay } =
    useLoaderData<typeof loader>();
  const replay = useActionData<typeof action>();
  const navigation = useNavigation();
  const replaying = navigation.state === "submitting";

  const fields: [string, ReactNode][] = [
    ["Channel", <ChannelBadge key="c" channel={message.channel} />],
    ["Provider", message.provider],
    ["Received", formatTime(message.receivedAt)],
    ["From", message.sender],
    ["To", message.recipient],
    ["Subject", message.subject ?? "–"],
    ["External id", message.externalId ?? "–"],
    ["Dedup key", `${message.dedupKey} (${message.dedupKind})`],
    [
      "Duplicates",
      message.lastDuplicateAt
        ? `${message.duplicateCount}, last at ${formatTime(message.lastDuplicateAt)}`
        : String(message.duplicateCount),
    ],
    [
      "Replay of",
      message.replayOfId ? (
        <Link
          key="r"
          to={`/messages/${message.replayOfId}`}
          className={LINK_CLASS}
        >
          {message.replayOfId}
        </Link>
      ) : (
        "–"
      ),
    ],
  ];

  return (
    <article className="space-y-6">
      <div>
        <Link to="/messages" className={LINK_CLASS}>
          ← Messages
        </Link>
        <h1 className="mt-2 break-words text-2xl font-semibold">
          {message.subject ??
            `${message.channel} message from ${message.sender}`}
        </h1>
        <p className="text-sm text-slate-500">Message {message.id}</p>
      </div>

      <dl className="grid grid-cols-1 gap-x-6 gap-y-2 rounded border border-slate-200 bg-white p-4 text-sm sm:grid-cols-[10rem_1fr]">
        {fields.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="font-medium text-slate-600">{label}</dt>
            <dd className="break-all">{value}</dd>
          </div>
        ))}
      </dl>

      <section aria-labelledby="text-heading">
        <h2 id="text-heading" className="text-lg font-semibold">
          Text
        </h2>
        <p className="mt-1 whitespace-pre-wrap break-words rounded border border-slate-200 bg-white p-3 text-sm">
          {message.textPreview || "(empty)"}
        </p>
        {message.textPreview.length >= TEXT_PREVIEW_LENGTH ? (
          <p className="mt-1 text-xs text-slate-500">
            Only the first {TEXT_PREVIEW_LENGTH.toLocaleString("en-US")}{" "}
            characters are shown; the payload below has the full text.
          </p>
        ) : null}
      </section>

      {canReplay ? (
        <section aria-labelledby="replay-heading">
          <h2 id="replay-heading" className="text-lg font-semibold">
            Replay
          </h2>
          <p className="text-sm text-slate-600">
            Re-sends the stored payload to its ingest endpoint over HTTP.
            Unchanged, it is a duplicate: the test endpoint returns 409 and
            provider endpoints acknowledge it with 2xx. As new, it gets a fresh
            message id and is stored as a replay of this message.
          </p>
          <Form method="post" className="mt-2 flex flex-wrap gap-2">
            <button
              type="submit"
              name="mode"
              value="unchanged"
              disabled={replaying}
              className={SECONDARY_BUTTON_CLASS}
            >
              Replay unchanged
            </button>
            <button
              type="submit"
              name="mode"
              value="new"
              disabled={replaying}
              className={BUTTON_CLASS}
            >
              Replay as new message
            </button>
          </Form>
          {replay ? <ReplayResult result={replay} /> : null}
        </section>
      ) : null}

      <RequestTimeline timeline={timeline} />
      <ReplayList replays={replays} />
      <StatusEvents statusEvents={statusEvents} />
      <MediaList media={message.media} />
      <PayloadBlock message={message} />
      <HeadersBlock headers={message.headers} />
    </article>
  );
}
