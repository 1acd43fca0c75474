// app/api/cron/hello/route.ts, written by `cronrelay init`.
import { Webhook } from "standardwebhooks";

// Deliveries already handled, by Idempotency-Key. cronrelay may deliver a
// job more than once (a retry after a timeout whose request did arrive), so
// the work must happen once per key. In your app, use the database: insert
// the key into a table with a unique constraint, in the same transaction as
// the work. A Set forgets on every deploy and is not shared between
// serverless instances.
const done = new Set<string>();

// cronrelay calls this for the job "hello" (0 9 * * *).
export async function POST(req: Request): Promise<Response> {
  // The secret from the manifest's `Authorization: Bearer ${CRON_SECRET}`.
  const cronSecret = process.env.CRON_SECRET;
  if (!cronSecret || req.headers.get("authorization") !== `Bearer ${cronSecret}`) {
    return new Response("unauthorized", { status: 401 });
  }

  // Verify the Standard Webhooks signature over the raw body, before parsing
  // it: webhook-id, webhook-timestamp (at most 5 minutes old) and
  // webhook-signature.
  const body = await req.text();
  try {
    new Webhook(process.env.CRONRELAY_SIGNING_KEY!).verify(body, Object.fromEntries(req.headers));
  } catch {
    return new Response("bad signature", { status: 401 });
  }

  // The same on every attempt of one delivery.
  const key = req.headers.get("idempotency-key")!;
  if (done.has(key)) {
    return Response.json({ ok: true, duplicate: true });
  }

  // The job's work goes here.

  done.add(key);
  // Any 2xx is a success; any 5xx (or a timeout) is retried later.
  return Response.json({ ok: true });
}
