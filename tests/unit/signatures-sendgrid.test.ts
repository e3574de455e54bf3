import { generateKeyPairSync, sign } from "node:crypto";
import { expect, test } from "vitest";
import { rejectionMessage } from "../support/verification";
import {
  sendgridPublicKey,
  verifySendgridSignature,
} from "../../app/ingest/providers/sendgrid.server";

const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const PUBLIC_KEY_BASE64 = pair.publicKey
  .export({ format: "der", type: "spki" })
  .toString("base64");
const TIMESTAMP = "1767268800";
const BODY = Buffer.from(
  '--xYzZY\r\nContent-Disposition: form-data; name="to"\r\n\r\nsupport@example.test\r\n--xYzZY--\r\n',
);

function signatureOf(
  body: Buffer,
  timestamp = TIMESTAMP,
  key = pair.privateKey,
) {
  return sign(
    "sha256",
    Buffer.concat([Buffer.from(timestamp), body]),
    key,
  ).toString("base64");
}

const KEY = sendgridPublicKey(PUBLIC_KEY_BASE64);
const SIGNATURE = signatureOf(BODY);

test("valid signature passes", () => {
  expect(verifySendgridSignature(KEY, BODY, SIGNATURE, TIMESTAMP)).toEqual({
    ok: true,
  });
});

test("changed body fails", () => {
  const body = Buffer.from(BODY.toString().replace("support", "sales"));
  expect(verifySendgridSignature(KEY, body, SIGNATURE, TIMESTAMP).ok).toBe(
    false,
  );
});

test("changed timestamp fails", () => {
  expect(verifySendgridSignature(KEY, BODY, SIGNATURE, "1767268801").ok).toBe(
    false,
  );
});

test("other key fails", () => {
  const signature = signatureOf(BODY, TIMESTAMP, other.privateKey);
  expect(verifySendgridSignature(KEY, BODY, signature, TIMESTAMP).ok).toBe(
    false,
  );
});

test("garbage signature fails", () => {
  expect(verifySendgridSignature(KEY, BODY, "not-base64!", TIMESTAMP).ok).toBe(
    false,
  );
});

test("missing timestamp fails", () => {
  const result = verifySendgridSignature(KEY, BODY, SIGNATURE, undefined);
  expect(rejectionMessage(result)).toContain("Timestamp header is missing");
});

test("pem key is accepted", () => {
  const pem = pair.publicKey.export({ format: "pem", type: "spki" }).toString();
  const key = sendgridPublicKey(pem);
  expect(verifySendgridSignature(key, BODY, SIGNATURE, TIMESTAMP).ok).toBe(
    true,
  );
});
