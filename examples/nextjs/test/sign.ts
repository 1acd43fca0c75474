// Signs a request the way cronrelay does (Standard Webhooks): HMAC-SHA256
// over "id.timestamp.body" with the base64-decoded secret after "whsec_".
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

export type Fixture = {
  secret: string;
  cron_secret: string;
  timestamp: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
};

// The request Go's internal/demo test recorded from a real delivery.
export const fixture: Fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/signed-request.json", import.meta.url), "utf8"),
) as Fixture;

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return "v1," + createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}

// A delivery of job with body, signed like cronrelay at timestamp.
export function delivery(url: string, job: string, id: string, body: unknown, timestamp: number): Request {
  const text = JSON.stringify(body);
  const deliveryId = `${job}#${id}`;
  return new Request(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${fixture.cron_secret}`,
      "content-type": "application/json",
      "idempotency-key": deliveryId,
      "cronrelay-job": job,
      "cronrelay-attempt": "1",
      "webhook-id": deliveryId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": sign(fixture.secret, deliveryId, timestamp, text),
    },
    body: text,
  });
}

// Runs fn with Date.now() at unix seconds t: the fixture's timestamp is
// fixed, and standardwebhooks accepts 5 minutes of skew.
export async function at<T>(t: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => t * 1000;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}
