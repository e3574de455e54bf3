import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { handleFetchWebhook } from "~/ingest/fetch-adapter.server";

// Every method reaches the same pipeline: GET and HEAD through the loader,
// the rest through the action. The Node server in server/ handles these paths
// itself and never gets here; remix-serve does.
export function loader({ request, context }: LoaderFunctionArgs) {
  return handleFetchWebhook(request, clientAddressOf(context));
}

export function action({ request, context }: ActionFunctionArgs) {
  return handleFetchWebhook(request, clientAddressOf(context));
}

function clientAddressOf(context: unknown): string {
  const address = (context as { clientAddress?: unknown } | undefined)
    ?.clientAddress;
  return typeof address === "string" ? address : "";
}
