import { TEST_PAYLOAD_EXAMPLES } from "~/ingest/test-payload";

/** Renders a curl command that posts the sms example to the test endpoint. */
export function CurlExample({ origin }: { origin: string }) {
  const body = JSON.stringify(TEST_PAYLOAD_EXAMPLES.sms);
  const command =
    `curl -X POST ${origin}/api/webhooks/test-multichannel \\\n` +
    `  -H 'Content-Type: application/json' \\\n` +
    `  -d '${body}'`;
  return (
    <pre className="overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100">
      <code>{command}</code>
    </pre>
  );
}
