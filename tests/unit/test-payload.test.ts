import { expect, test } from "vitest";
import {
  formatIssuePath,
  issuesOf,
  TEST_PAYLOAD_EXAMPLES,
  testPayloadSchema,
} from "../../app/ingest/test-payload";

function issuesFor(value: unknown) {
  const result = testPayloadSchema.safeParse(value);
  if (result.success) throw new Error("expected the payload to be rejected");
  return issuesOf(result.error);
}

test("every example is valid", () => {
  for (const example of Object.values(TEST_PAYLOAD_EXAMPLES)) {
    expect(testPayloadSchema.safeParse(example).success).toBe(true);
  }
});

test("email accepts one address or a list", () => {
  const base = {
    channel: "email",
    from: "a@example.com",
    subject: "s",
    text: "t",
  };
  expect(
    testPayloadSchema.safeParse({ ...base, to: "b@example.com" }).success,
  ).toBe(true);
  expect(
    testPayloadSchema.safeParse({
      ...base,
      to: ["b@example.com", "c@example.com"],
    }).success,
  ).toBe(true);
});

test("email rejects an empty recipient list", () => {
  const issues = issuesFor({
    channel: "email",
    from: "a@example.com",
    to: [],
    subject: "s",
    text: "t",
  });
  expect(issues.map((issue) => issue.path)).toContain("to");
});

test("email rejects a bad address in the list", () => {
  const issues = issuesFor({
    channel: "email",
    from: "a@example.com",
    to: ["b@example.com", "nope"],
    subject: "s",
    text: "t",
  });
  expect(issues.some((issue) => issue.path.startsWith("to"))).toBe(true);
});

test("email recipient messages name the fix", () => {
  const base = {
    channel: "email",
    from: "a@example.com",
    subject: "s",
    text: "t",
  };
  const cases: [unknown, string][] = [
    [42, "must be an email address or an array of email addresses"],
    [null, "must be an email address or an array of email addresses"],
    [undefined, "is required"],
    ["nope", "must be an email address such as ana@example.com"],
    [[], "must list at least one address"],
    [
      ["a@example.com", 5],
      "must list email addresses as strings; item 1 is number",
    ],
    [[null], "must list email addresses as strings; item 0 is null"],
  ];
  for (const [to, message] of cases) {
    expect(issuesFor({ ...base, to }), String(to)).toEqual([
      { path: "to", message },
    ]);
  }
});

test("email needs text or html", () => {
  const issues = issuesFor({
    channel: "email",
    from: "a@example.com",
    to: "b@example.com",
    subject: "s",
  });
  expect(issues).toEqual([
    { path: "text", message: "text or html is required" },
  ]);
});

test("whatsapp needs text or media", () => {
  const issues = issuesFor({
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550101",
  });
  expect(issues).toEqual([
    { path: "text", message: "text or media is required" },
  ]);
});

test("whatsapp media needs a MIME type", () => {
  const issues = issuesFor({
    channel: "whatsapp",
    from: "+14155550100",
    to: "+14155550101",
    media: [{ url: "https://example.com/a.png", contentType: "png" }],
  });
  expect(issues[0].path).toBe("media[0].contentType");
});

test("sms numbers must be E.164", () => {
  for (const number of [
    "14155550100",
    "+0123",
    "+1 415 555 0100",
    "+1234567890123456",
  ]) {
    const issues = issuesFor({
      channel: "sms",
      from: number,
      to: "+14155550101",
      text: "x",
    });
    expect(issues[0].path, number).toBe("from");
  }
});

test("sms text is 1 to 1600 characters", () => {
  const base = { channel: "sms", from: "+14155550100", to: "+14155550101" };
  expect(
    testPayloadSchema.safeParse({ ...base, text: "x".repeat(1600) }).success,
  ).toBe(true);
  expect(issuesFor({ ...base, text: "x".repeat(1601) })[0].path).toBe("text");
  expect(issuesFor({ ...base, text: "" })[0].path).toBe("text");
});

test("missing fields read is required", () => {
  const issues = issuesFor({ channel: "sms" });
  expect(issues).toEqual(
    expect.arrayContaining([
      { path: "from", message: "is required" },
      { path: "to", message: "is required" },
      { path: "text", message: "is required" },
    ]),
  );
});

test("unknown channel names the valid ones", () => {
  const issues = issuesFor({ channel: "pager" });
  expect(issues[0].path).toBe("channel");
  expect(issues[0].message).toBe("channel must be one of email, whatsapp, sms");
});

test("formatIssuePath writes brackets for indexes", () => {
  expect(formatIssuePath(["media", 0, "url"])).toBe("media[0].url");
  expect(formatIssuePath([])).toBe("(root)");
});

test("whatsapp media URL must be http or https", () => {
  for (const url of [
    "javascript:alert(1)",
    "data:text/html,hi",
    "ftp://example.com/a",
  ]) {
    const issues = issuesFor({
      channel: "whatsapp",
      from: "+14155550100",
      to: "+14155550101",
      media: [{ url, contentType: "image/png" }],
    });
    expect(issues[0].path, url).toBe("media[0].url");
  }
});
