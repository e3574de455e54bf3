import type { IngestContext } from "../context.server";
import type { InboundRequest, IngestResult } from "../http";
import { handleMailgun } from "./mailgun.server";
import { handleMeta } from "./meta.server";
import { handlePostmark } from "./postmark.server";
import { handleResend } from "./resend.server";
import { handleSendgrid } from "./sendgrid.server";
import { handleTwilioStatus, twilioMessageHandler } from "./twilio.server";

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

export const PROVIDER_ROUTES: readonly ProviderRoute[] = [
  {
    provider: "twilio",
    channel: "sms",
    methods: ["GET", "POST"],
    handle: twilioMessageHandler("sms"),
  },
  {
    provider: "twilio",
    channel: "whatsapp",
    methods: ["GET", "POST"],
    handle: twilioMessageHandler("whatsapp"),
  },
  {
    provider: "twilio",
    channel: "status",
    methods: ["POST"],
    handle: handleTwilioStatus,
  },
  {
    provider: "meta",
    channel: "whatsapp",
    methods: ["GET", "POST"],
    handle: handleMeta,
  },
  {
    provider: "sendgrid",
    channel: "email",
    methods: ["POST"],
    handle: handleSendgrid,
  },
  {
    provider: "mailgun",
    channel: "email",
    methods: ["POST"],
    handle: handleMailgun,
  },
  {
    provider: "postmark",
    channel: "email",
    methods: ["POST"],
    handle: handlePostmark,
  },
  {
    provider: "resend",
    channel: "email",
    methods: ["POST"],
    handle: handleResend,
  },
];
