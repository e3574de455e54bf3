import { Link } from "@remix-run/react";
import type { ReplayOutcome } from "~/dashboard/replay.server";
import { formatMs } from "./format";
import { LINK_CLASS } from "./ui";

/** Result of the replay action: a replay outcome, or an error for a bad form. */
export type ReplayResultData =
  ReplayOutcome | { kind: "invalid"; error: string };

/** Shows the HTTP status, latency and body of a replayed request. */
export function ReplayResult({ result }: { result: ReplayResultData }) {
  if (result.kind === "unavailable") {
    return (
      <div role="status" className="mt-3 rounded bg-amber-50 p-3 text-sm">
        Replay is not available for provider {result.provider}: re-sending its
        messages is not implemented yet.
      </div>
    );
  }
  if (result.kind === "failed" || result.kind === "invalid") {
    return (
      <div role="alert" className="mt-3 rounded bg-red-50 p-3 text-sm">
        {result.error}
      </div>
    );
  }
  const ok = result.status < 300;
  return (
    <div
      role="status"
      className={`mt-3 rounded p-3 text-sm ${ok ? "bg-emerald-50" : "bg-slate-100"}`}
    >
      <p>
        Replay {result.mode === "new" ? "as a new message" : "unchanged"}:{" "}
        <strong>HTTP {result.status}</strong> in {formatMs(result.latencyMs)}{" "}
        from POST {result.url}
      </p>
      {result.newMessageId ? (
        <p className="mt-1">
          Stored as{" "}
          <Link to={`/messages/${result.newMessageId}`} className={LINK_CLASS}>
            message {result.newMessageId}
          </Link>
          .
        </p>
      ) : null}
      <pre className="mt-2 max-h-64 overflow-auto whitespace-pre-wrap break-all rounded bg-white p-2 text-xs">
        {result.body}
      </pre>
    </div>
  );
}
