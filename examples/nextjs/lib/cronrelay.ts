// lib/cronrelay.ts
import { Webhook } from "standardwebhooks";

// verify checks that a request comes from cronrelay and returns its raw
// body, or the 401 to answer:
//   - the secret from the manifest's `Authorization: Bearer ${CRON_SECRET}`
//     (skipped with { bearer: false });
//   - the Standard Webhooks signature over the raw body, checked before the
//     body is parsed: webhook-id, webhook-timestamp (at most 5 minutes old)
//     and webhook-signature, with CRONRELAY_SIGNING_KEY.
export async function verify(req: Request, { bearer = true } = {}): Promise<string | Response> {
  const cronSecret = process.env.CRON_SECRET;
  if (bearer && (!cronSecret || req.headers.get("authorization") !== `Bearer ${cronSecret}`)) {
    return new Response("unauthorized", { status: 401 });
  }
  const body = await req.text();
  try {
    new Webhook(process.env.CRONRELAY_SIGNING_KEY!).verify(body, Object.fromEntries(req.headers));
  } catch {
    return new Response("bad signature", { status: 401 });
  }
  return body;
}
