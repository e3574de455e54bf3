import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import { runTestSend } from "~/dashboard/test-send.server";
import { SendChannelTabs } from "~/components/send-channel-tabs";
import { TestSendForm } from "~/components/test-send-form";
import { TestSendResultPanel } from "~/components/test-send-result";
import { isChannel, type Channel } from "~/ingest/message";
import { TEST_PAYLOAD_EXAMPLES } from "~/ingest/test-payload";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Test send ${data?.channel ?? ""} · Webhook inbox` },
];

function channelParam(value: string | undefined): Channel {
  if (value === undefined || !isChannel(value)) {
    throw new Response(
      `No test-send page for channel ${JSON.stringify(value ?? "")}. Use /send/email, /send/whatsapp or /send/sms.`,
      { status: 404, statusText: "Not Found" },
    );
  }
  return value;
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireRole(request, "developer");
  const channel = channelParam(params.channel);
  return {
    channel,
    example: JSON.stringify(TEST_PAYLOAD_EXAMPLES[channel], null, 2),
  };
}

/**
 * Rejects a form whose declared size exceeds what the test endpoint could
 * accept after URL decoding, which at most triples a JSON body.
 */
function checkFormSize(request: Request, bodyLimitBytes: number): void {
  const declared = Number(request.headers.get("content-length") ?? 0);
  const maxBytes = 3 * bodyLimitBytes + 1024;
  if (declared > maxBytes) {
    throw new Response(
      `The form is ${declared} bytes, more than the maximum of ${maxBytes} bytes. The test endpoint accepts bodies up to BODY_LIMIT_BYTES (${bodyLimitBytes} bytes). Shorten the payload.`,
      { status: 413, statusText: "Payload Too Large" },
    );
  }
}

export async function action({ request, params }: ActionFunctionArgs) {
  await requireRole(request, "developer");
  const channel = channelParam(params.channel);
  const app = await getApp();
  // NOTE: a chunked request has no Content-Length, so its form is read
  // whole whatever its size.
  checkFormSize(request, app.env.BODY_LIMIT_BYTES);
  const form = await request.formData();
  const payload = form.get("payload");
  const intent = form.get("intent");
  const result = await runTestSend({
    channel,
    json: typeof payload === "string" ? payload : null,
    intent: typeof intent === "string" ? intent : null,
    // NOTE: without listenUrl (remix vite:dev) the request's Host header
    // picks the target, so a signed-in developer can aim it at another host.
    origin: app.listenUrl ?? new URL(request.url).origin,
  });
  return data(result, { status: result.kind === "invalid" ? 400 : 200 });
}

export default function TestSendPage() {
  const { channel, example } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <section className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold">Test send</h1>
        <p className="max-w-3xl text-slate-700">
          Posts the JSON below to the test webhook endpoint over HTTP, so it is
          deduplicated, recorded and counted in the latency charts like any
          provider request.
        </p>
        <SendChannelTabs />
      </header>
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <TestSendForm channel={channel} example={example} result={result} />
        {result ? <TestSendResultPanel result={result} /> : null}
      </div>
    </section>
  );
}
