import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult } from "../http";

/** One provider endpoint, served at /api/webhooks/:provider/:channel. */
export interface ProviderRoute {
  provider: string;
  /** The last path segment: a channel, or `status` for delivery callbacks. */
  channel: string;
  methods: readonly string[];
  handle: (
    request: InboundRequest,
    context: IngestContext,
  ) => Promise<IngestResult>;
}

export const PROVIDER_ROUTES: readonly ProviderRoute[] = [];
