/** Channels and scenarios the benchmark measures. */
export const CHANNELS = ["email", "whatsapp", "sms"] as const;
export type Channel = (typeof CHANNELS)[number];

export const SCENARIOS = ["unique", "dup10", "alldup"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_LABELS: Record<Scenario, string> = {
  unique: "unique messages",
  dup10: "10 % duplicates",
  alldup: "all duplicates",
};

/** Builds the JSON body of one test-multichannel message. */
export function payloadFor(channel: Channel, messageId: string): string {
  switch (channel) {
    case "email":
      return JSON.stringify({
        channel,
        from: "ana@example.com",
        to: ["support@example.com"],
        subject: `Order ${messageId} arrived damaged`,
        text: "Hello, the box was crushed. Can you send a new one?",
        messageId,
      });
    case "whatsapp":
      return JSON.stringify({
        channel,
        from: "+14155550100",
        to: "+14155550199",
        text: "Hi! Is the store open on Sunday?",
        media: [
          { url: "https://example.com/photo.jpg", contentType: "image/jpeg" },
        ],
        messageId,
      });
    case "sms":
      return JSON.stringify({
        channel,
        from: "+14155550100",
        to: "+14155550199",
        text: `Your code is ${messageId.length}23456`,
        messageId,
      });
  }
}

/** Returns the messageId stored before an all-duplicates run, which every request repeats. */
export function seedIdOf(prefix: string): string {
  return `${prefix}-seed`;
}

/**
 * Returns a generator of message ids for a scenario. Given the same prefix it
 * yields the same sequence, so the app and the baseline get the same bodies.
 * In `dup10` every tenth request repeats the id sent nine requests earlier.
 */
export function messageIds(scenario: Scenario, prefix: string): () => string {
  let sequence = 0;
  return () => {
    const n = sequence++;
    if (scenario === "alldup") return seedIdOf(prefix);
    if (scenario === "dup10" && n % 10 === 9) return `${prefix}-${n - 9}`;
    return `${prefix}-${n}`;
  };
}
