import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
  MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { requireRole } from "~/auth/guard.server";
import { getApp } from "~/boot.server";
import {
  exampleBody,
  findSendRoute,
  routeKey,
  SEND_ROUTES,
} from "~/ingest/providers/signing.server";
import { sendProviderTest } from "~/ingest/providers/test-send.server";

export const meta: MetaFunction = () => [
  { title: "Test send: provider formats · Webhook inbox" },
];

const DEFAULT_ROUTE = "twilio/sms";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "developer");
  const requested = new URL(request.url).searchParams.get("route");
  const route = findSendRoute(requested ?? DEFAULT_ROUTE);
  if (!route) {
    throw new Response(
      `No provider route ${JSON.stringify(requested)}. Pick one of: ${SEND_ROUTES.map(routeKey).join(", ")}.`,
      { status: 404 },
    );
  }
  return {
    routes: SEND_ROUTES.map((item) => ({
      key: routeKey(item),
      label: item.label,
    })),
    selected: routeKey(route),
    example: exampleBody(route),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  await requireRole(request, "developer");
  const form = await request.formData();
  const key = String(form.get("route") ?? "");
  const payload = String(form.get("payload") ?? "");
  const app = await getApp();
  const result = await sendProviderTest(
    app,
    key,
    payload,
    app.listenUrl ?? new URL(request.url).origin,
  );
  return { ...result, payload, key };
}

export default function SendProvider() {
  const { routes, selected, example } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const route = result?.key ?? selected;
  const payload = result?.payload ?? example;
  return (
    <section className="mx-auto max-w-4xl space-y-6">
      <h1 className="text-2xl font-semibold">Test send: provider formats</h1>
      <p className="text-slate-700">
        Sends a payload in the provider&apos;s own format to this app&apos;s
        webhook endpoint, signed with the configured secret, and shows the
        answer and what was stored.
      </p>

      <Form method="get" className="flex flex-wrap items-end gap-3">
        <div className="min-w-0 max-w-full">
          <label htmlFor="route-select" className="block text-sm font-medium">
            Endpoint
          </label>
          <select
            id="route-select"
            name="route"
            defaultValue={route}
            className="mt-1 w-full max-w-full rounded border border-slate-300 px-2 py-1.5"
          >
            {routes.map((item) => (
              <option key={item.key} value={item.key}>
                {item.label} (/api/webhooks/{item.key})
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium"
        >
          Load example
        </button>
      </Form>

      <Form method="post" className="space-y-3" key={`${route}:${payload}`}>
        <input type="hidden" name="route" value={route} />
        <div>
          <label htmlFor="payload" className="block text-sm font-medium">
            Payload for /api/webhooks/{route}
          </label>
          <textarea
            id="payload"
            name="payload"
            defaultValue={payload}
            rows={14}
            spellCheck={false}
            className="mt-1 w-full rounded border border-slate-300 p-2 font-mono text-sm"
          />
        </div>
        <button
          type="submit"
          className="rounded bg-indigo-600 px-4 py-2 text-sm font-medium text-white"
        >
          Sign and send
        </button>
      </Form>

      {result && "error" in result ? (
        <p role="alert" className="rounded bg-red-50 p-3 text-red-800">
          {result.error}
        </p>
      ) : null}

      {result && "status" in result ? (
        <section aria-labelledby="result-heading" className="space-y-3">
          <h2 id="result-heading" className="text-xl font-semibold">
            Result
          </h2>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
            <dt className="font-medium">URL</dt>
            <dd className="font-mono text-sm">{result.url}</dd>
            <dt className="font-medium">Status</dt>
            <dd data-testid="send-status">{result.status}</dd>
            <dt className="font-medium">Latency</dt>
            <dd>{result.latencyMs} ms</dd>
          </dl>
          <h3 className="font-medium">Response body</h3>
          <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-sm">
            {result.responseBody}
          </pre>
          <h3 className="font-medium">Stored</h3>
          {result.records.length === 0 ? (
            <p>No request record was written yet.</p>
          ) : (
            <table className="w-full text-left text-sm">
              <thead>
                <tr>
                  <th scope="col">Outcome</th>
                  <th scope="col">Message</th>
                  <th scope="col">Sender</th>
                  <th scope="col">Recipient</th>
                  <th scope="col">Text</th>
                </tr>
              </thead>
              <tbody>
                {result.records.map((record, i) => (
                  <tr key={`${record.messageId ?? "none"}-${i}`}>
                    <td>{record.outcome}</td>
                    <td className="font-mono">{record.messageId ?? "—"}</td>
                    <td>{record.sender ?? "—"}</td>
                    <td>{record.recipient ?? "—"}</td>
                    <td>{record.text ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ) : null}
    </section>
  );
}
