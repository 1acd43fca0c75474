// app/api/jobs/welcome-followup/route.ts
import { verify } from "../../../../lib/cronrelay.js";
import { sendEmail } from "../../../../lib/users.js";

// Deliveries already handled, by Idempotency-Key. cronrelay may deliver a
// job more than once (a retry after a timeout whose request did arrive), so
// the work must happen once per key. In your app, use the database: insert
// the key into a table with a unique constraint, in the same transaction as
// the work. A Set forgets on every deploy and is not shared between
// serverless instances.
const done = new Set<string>();

export async function POST(req: Request): Promise<Response> {
  // From cronrelay: the bearer secret and the signature (lib/cronrelay.ts).
  const body = await verify(req);
  if (body instanceof Response) {
    return body;
  }

  // The same on every attempt: "welcome-followup#user-123".
  const key = req.headers.get("idempotency-key")!;
  // 1 on the first attempt, counted across runs.
  const attempt = Number(req.headers.get("cronrelay-attempt") ?? "1");
  if (done.has(key)) {
    return Response.json({ ok: true, duplicate: true, attempt });
  }

  const { userId } = JSON.parse(body) as { userId: string };
  await sendEmail(userId, "welcome-followup");
  done.add(key);
  // Any 2xx is a success; any 5xx (or a timeout) is retried later.
  return Response.json({ ok: true, userId, attempt });
}
