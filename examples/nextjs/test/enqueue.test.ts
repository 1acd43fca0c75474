import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, test } from "node:test";

import { enqueueWithFetch, enqueueWithOctokit, targetFromEnv, type EnqueueRequest, type Target } from "../lib/enqueue.js";

// A loopback fake of GitHub's dispatches endpoint, served under a base path
// (as GitHub Enterprise Server's /api/v3 is), so that a helper ignoring the
// configured API URL fails.
type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: string };
let received: Received[] = [];
let answer = { status: 204, body: "" };
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString("utf8")));
  req.on("end", () => {
    received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    res.writeHead(answer.status, { "Content-Type": "application/json" });
    res.end(answer.body);
  });
});
let target: Target;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  target = { owner: "acme", repo: "shop", token: "t0ken", apiUrl: `http://127.0.0.1:${port}/api/v3` };
});
after(() => server.close());
beforeEach(() => {
  received = [];
  answer = { status: 204, body: "" };
});

const request: EnqueueRequest = {
  enqueue: [{ job: "welcome-followup", id: "user-123", delay: "24h", body: { userId: "123" } }],
  cancel: [{ job: "trial-expire", id: "user-456" }],
};
const wantBody = {
  event_type: "cronrelay",
  client_payload: {
    enqueue: [{ job: "welcome-followup", id: "user-123", delay: "24h", body: { userId: "123" } }],
    cancel: [{ job: "trial-expire", id: "user-456" }],
  },
};

test("fetch sends a repository_dispatch with the request as client_payload", async () => {
  await enqueueWithFetch(request, target);
  assert.equal(received.length, 1);
  const r = received[0]!;
  assert.equal(r.method, "POST");
  assert.equal(r.url, "/api/v3/repos/acme/shop/dispatches");
  assert.equal(r.headers.authorization, "Bearer t0ken");
  assert.equal(r.headers.accept, "application/vnd.github+json");
  assert.equal(r.headers["content-type"], "application/json");
  assert.equal(r.headers["x-github-api-version"], "2022-11-28");
  assert.deepEqual(JSON.parse(r.body), wantBody);
});

test("Octokit sends the same request", async () => {
  await enqueueWithOctokit(request, target);
  assert.equal(received.length, 1);
  const r = received[0]!;
  assert.equal(r.method, "POST");
  assert.equal(r.url, "/api/v3/repos/acme/shop/dispatches");
  assert.match(r.headers.authorization ?? "", /^(token|bearer) t0ken$/i);
  assert.match(r.headers.accept ?? "", /application\/vnd\.github/);
  assert.match(r.headers["content-type"] ?? "", /^application\/json/);
  assert.deepEqual(JSON.parse(r.body), wantBody);
});

test("a refused dispatch is an error, with both helpers", async () => {
  answer = { status: 422, body: JSON.stringify({ message: "Validation Failed" }) };
  await assert.rejects(enqueueWithFetch(request, target), /HTTP 422: .*Validation Failed/);
  await assert.rejects(enqueueWithOctokit(request, target), /Validation Failed/);
});

test("the target comes from the environment", () => {
  assert.deepEqual(
    targetFromEnv({ CRONRELAY_REPOSITORY: "acme/shop", CRONRELAY_GITHUB_TOKEN: "t", GITHUB_API_URL: "http://127.0.0.1:8787/" }),
    { owner: "acme", repo: "shop", token: "t", apiUrl: "http://127.0.0.1:8787" },
  );
  assert.equal(targetFromEnv({}).apiUrl, "https://api.github.com");
});
