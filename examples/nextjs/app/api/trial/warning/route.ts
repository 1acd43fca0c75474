// app/api/trial/warning/route.ts
import { verify } from "../../../../lib/cronrelay.js";
import { hasConverted, sendEmail } from "../../../../lib/users.js";

// Called 3 days before a trial ends. If the user has not converted, it warns
// them and answers with a continuation: cronrelay enqueues trial-expire to
// run 72 hours later. The id makes it idempotent: a retried warning does not
// schedule two expiries.
export async function POST(req: Request): Promise<Response> {
  // The signature alone: it covers the body this route acts on.
  const body = await verify(req, { bearer: false });
  if (body instanceof Response) {
    return body;
  }

  const { userId } = JSON.parse(body) as { userId: string };
  if (await hasConverted(userId)) {
    return Response.json({ converted: true }); // no continuation: the chain ends here
  }
  await sendEmail(userId, "trial-warning");
  return Response.json({
    warned: true,
    cronrelay: {
      enqueue: [{ job: "trial-expire", id: `user-${userId}`, delay: "72h", body: { userId } }],
    },
  });
}
