import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";

/** One recorded provider request from tests/fixtures/providers/. */
export interface ProviderFixture {
  name: string;
  method: string;
  path_hint: string;
  headers: Record<string, string>;
  body_base64?: string;
}

const FIXTURE_DIR = path.resolve(import.meta.dirname, "../fixtures/providers");

export function loadFixture(name: string): ProviderFixture {
  return JSON.parse(
    readFileSync(path.join(FIXTURE_DIR, `${name}.json`), "utf8"),
  ) as ProviderFixture;
}

/** Reads the secrets the fixtures were signed with, as server env vars. */
export function fixtureSecrets(): Record<string, string> {
  return JSON.parse(
    readFileSync(path.join(FIXTURE_DIR, "test-secrets.json"), "utf8"),
  ) as Record<string, string>;
}

/** The request target of a fixture: path_hint up to the first space. */
export function fixtureTarget(fixture: ProviderFixture): string {
  return fixture.path_hint.split(" ")[0];
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request with node:http, so the target, the headers (Host
 * included) and the body bytes go out exactly as given.
 */
export function sendRaw(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: target,
        headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Sends a fixture byte for byte to the server at `baseUrl`. */
export function sendFixture(
  baseUrl: string,
  fixture: ProviderFixture,
  extraHeaders: Record<string, string> = {},
): Promise<RawResponse> {
  const body = Buffer.from(fixture.body_base64 ?? "", "base64");
  return sendRaw(
    baseUrl,
    fixture.method,
    fixtureTarget(fixture),
    { ...fixture.headers, ...extraHeaders },
    body,
  );
}
