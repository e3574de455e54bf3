import { Link } from "@remix-run/react";
import type { TestSendResult } from "~/dashboard/test-send";

function formatMs(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** Renders the response of the last test send: status, latency, body, link. */
export function TestSendResultPanel({ result }: { result: TestSendResult }) {
  if (result.kind === "invalid") return null;
  if (result.kind === "failed") {
    return (
      <section
        aria-labelledby="send-result-heading"
        aria-live="polite"
        className="min-w-0 break-words rounded border border-red-300 bg-red-50 p-4 text-red-800"
      >
        <h2 id="send-result-heading" className="font-semibold">
          Request failed
        </h2>
        <p className="mt-1 text-sm">{result.error}</p>
      </section>
    );
  }

  const ok = result.status >= 200 && result.status < 300;
  return (
    <section
      aria-labelledby="send-result-heading"
      aria-live="polite"
      className="min-w-0 space-y-3 rounded border border-slate-200 bg-white p-4"
    >
      <h2 id="send-result-heading" className="font-semibold">
        Response
      </h2>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-600">HTTP status</dt>
        <dd
          data-testid="send-status"
          className={
            ok ? "font-medium text-green-700" : "font-medium text-amber-700"
          }
        >
          {`${result.status} ${result.statusText}`}
        </dd>
        <dt className="text-slate-600">Round trip</dt>
        <dd>{formatMs(result.roundTripMs)}</dd>
        <dt className="text-slate-600">Server latency</dt>
        <dd>
          {result.serverLatencyMs === null
            ? "not reported"
            : formatMs(result.serverLatencyMs)}
        </dd>
      </dl>
      {result.messageId ? (
        <p className="text-sm">
          <Link
            to={`/messages/${result.messageId}`}
            className="font-medium text-indigo-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          >
            {result.status === 409
              ? "Open the original message"
              : "Open the stored message"}
          </Link>
        </p>
      ) : null}
      <div>
        <h3 className="text-sm font-medium text-slate-600">Response body</h3>
        <pre className="mt-1 max-h-96 overflow-auto rounded bg-slate-900 p-3 text-xs text-slate-100">
          {result.body}
        </pre>
      </div>
    </section>
  );
}
