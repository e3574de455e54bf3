import { Form, Link, useNavigation } from "@remix-run/react";
import type { TestSendResult } from "~/dashboard/test-send";
import type { Channel } from "~/ingest/message";

const BUTTON =
  "rounded px-4 py-2 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60";

/**
 * Renders the JSON editor of a test-send page. It posts `payload` and `intent`
 * (send, again or new-id) and shows validation errors under the field.
 */
export function TestSendForm({
  channel,
  example,
  result,
}: {
  channel: Channel;
  example: string;
  result: TestSendResult | undefined;
}) {
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const issues = result?.kind === "invalid" ? result.issues : [];
  const json = result?.json ?? example;
  const errorId = `payload-${channel}-errors`;
  const helpId = `payload-${channel}-help`;

  return (
    <Form method="post" className="min-w-0 space-y-3" aria-busy={busy}>
      <div className="flex items-baseline justify-between gap-4">
        <label htmlFor="payload" className="font-medium">
          Payload JSON
        </label>
        <Link
          to={`/send/${channel}`}
          reloadDocument
          className="text-sm text-indigo-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
        >
          Reset to the example
        </Link>
      </div>
      <p id={helpId} className="break-words text-sm text-slate-600">
        The body of POST /api/webhooks/test-multichannel. A message is stored
        once per channel and messageId.
      </p>
      {issues.length > 0 ? (
        <div
          id={errorId}
          role="alert"
          className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800"
        >
          <p className="font-medium">The payload is invalid:</p>
          <ul className="mt-1 list-disc pl-5">
            {issues.map((issue) => (
              <li key={`${issue.path}:${issue.message}`}>
                <code className="font-mono">{issue.path}</code> {issue.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <textarea
        // A new key remounts the field, so it shows the JSON the server
        // returned (for example with a new messageId) after each submit.
        key={json}
        id="payload"
        name="payload"
        defaultValue={json}
        rows={16}
        spellCheck={false}
        aria-invalid={issues.length > 0}
        aria-describedby={issues.length > 0 ? `${errorId} ${helpId}` : helpId}
        className={`block w-full rounded border bg-white p-3 font-mono text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
          issues.length > 0 ? "border-red-400" : "border-slate-300"
        }`}
      />
      <div className="flex flex-wrap gap-3">
        <button
          type="submit"
          name="intent"
          value="send"
          disabled={busy}
          className={`${BUTTON} bg-indigo-600 text-white hover:bg-indigo-700`}
        >
          Send
        </button>
        {result?.kind === "sent" ? (
          <button
            type="submit"
            name="intent"
            value="again"
            disabled={busy}
            className={`${BUTTON} border border-slate-300 bg-white hover:bg-slate-100`}
          >
            Send again
          </button>
        ) : null}
        <button
          type="submit"
          name="intent"
          value="new-id"
          disabled={busy}
          className={`${BUTTON} border border-slate-300 bg-white hover:bg-slate-100`}
        >
          New message id
        </button>
      </div>
    </Form>
  );
}
