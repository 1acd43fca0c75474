import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { POST as hello } from "../app/api/cron/hello/route.js";
import { POST as welcomeFollowup } from "../app/api/jobs/welcome-followup/route.js";
import { POST as trialWarning } from "../app/api/trial/warning/route.js";
import { markConverted, outbox } from "../lib/users.js";
import { at, delivery, fixture, sign } from "./sign.js";

process.env.CRONRELAY_SIGNING_KEY = fixture.secret;
process.env.CRON_SECRET = fixture.cron_secret;

// The recorded request, as Next.js hands it to the route handler.
function recorded(change: { headers?: Record<string, string>; body?: string } = {}): Request {
  return new Request(fixture.url, {
    method: fixture.method,
    headers: { ...fixture.headers, ...change.headers },
    body: change.body ?? fixture.body,
  });
}

beforeEach(() => {
  outbox.length = 0;
});

test("the JS signer matches the signature cronrelay sent", () => {
  const h = fixture.headers;
  assert.equal(sign(fixture.secret, h["webhook-id"]!, fixture.timestamp, fixture.body), h["webhook-signature"]);
});

test("welcome-followup: a request from cronrelay does the work once", async () => {
  const first = await at(fixture.timestamp + 10, () => welcomeFollowup(recorded()));
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { ok: true, userId: "123", attempt: 1 });
  assert.deepEqual(outbox, [{ to: "123", template: "welcome-followup" }]);

  // The same delivery again (a retry whose first attempt did arrive).
  const again = await at(fixture.timestamp + 70, () =>
    welcomeFollowup(recorded({ headers: { "cronrelay-attempt": "2" } })),
  );
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { ok: true, duplicate: true, attempt: 2 });
  assert.equal(outbox.length, 1, "the email went out twice");
});

test("welcome-followup: refuses what cronrelay did not send", async (t) => {
  const cases: [string, () => Request, number][] = [
    ["wrong Authorization", () => recorded({ headers: { authorization: "Bearer guess" } }), 0],
    ["no Authorization", () => recorded({ headers: { authorization: "" } }), 0],
    ["body changed", () => recorded({ body: fixture.body.replace("123", "124") }), 0],
    ["signature of another key", () => recorded({ headers: { "webhook-signature": sign("whsec_" + Buffer.from("another-key-of-32-bytes-at-least").toString("base64"), fixture.headers["webhook-id"]!, fixture.timestamp, fixture.body) } }), 0],
    ["no signature", () => recorded({ headers: { "webhook-signature": "" } }), 0],
    ["replayed an hour later", () => recorded(), 3600],
  ];
  for (const [name, req, later] of cases) {
    await t.test(name, async () => {
      const res = await at(fixture.timestamp + later, () => welcomeFollowup(req()));
      assert.equal(res.status, 401);
      assert.equal(outbox.length, 0);
    });
  }
});

test("trial warning: an unconverted user gets a continuation", async () => {
  const url = "https://myapp.example.com/api/trial/warning";
  const now = 1_796_000_000;
  const res = await at(now, () => trialWarning(delivery(url, "trial-warning", "user-456", { userId: "456" }, now)));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    warned: true,
    cronrelay: { enqueue: [{ job: "trial-expire", id: "user-456", delay: "72h", body: { userId: "456" } }] },
  });
  assert.deepEqual(outbox, [{ to: "456", template: "trial-warning" }]);
});

test("trial warning: a converted user ends the chain", async () => {
  await markConverted("789");
  const url = "https://myapp.example.com/api/trial/warning";
  const now = 1_796_000_000;
  const res = await at(now, () => trialWarning(delivery(url, "trial-warning", "user-789", { userId: "789" }, now)));
  assert.equal(res.status, 200);
  const json = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(json, { converted: true });
  assert.equal("cronrelay" in json, false);
  assert.equal(outbox.length, 0);
});

test("trial warning: a bad signature is refused", async () => {
  const url = "https://myapp.example.com/api/trial/warning";
  const req = delivery(url, "trial-warning", "user-456", { userId: "456" }, 1_796_000_000);
  const res = await at(1_796_000_000, () =>
    trialWarning(new Request(req, { body: JSON.stringify({ userId: "999" }), method: "POST" })),
  );
  assert.equal(res.status, 401);
});

// app/api/cron/hello/route.ts is what `cronrelay init --nextjs` writes (a Go
// test keeps the two equal).
test("init's route: a request from cronrelay is accepted once per delivery", async () => {
  const first = await at(fixture.timestamp + 10, () => hello(recorded()));
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { ok: true });
  const again = await at(fixture.timestamp + 70, () => hello(recorded({ headers: { "cronrelay-attempt": "2" } })));
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { ok: true, duplicate: true });
});

test("init's route: refuses what cronrelay did not send", async (t) => {
  const cases: [string, () => Request, number][] = [
    ["wrong Authorization", () => recorded({ headers: { authorization: "Bearer guess" } }), 0],
    ["body changed", () => recorded({ body: fixture.body.replace("123", "124") }), 0],
    ["no signature", () => recorded({ headers: { "webhook-signature": "" } }), 0],
    ["replayed an hour later", () => recorded(), 3600],
  ];
  for (const [name, req, later] of cases) {
    await t.test(name, async () => {
      const res = await at(fixture.timestamp + later, () => hello(req()));
      assert.equal(res.status, 401);
    });
  }
});
