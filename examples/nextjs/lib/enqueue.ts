// lib/enqueue.ts
//
// Enqueue a delayed job from your app, for example when a user signs up:
//   await enqueueWithFetch({
//     enqueue: [{ job: "welcome-followup", id: `user-${user.id}`, delay: "24h", body: { userId: user.id } }],
//   });
import { Octokit } from "@octokit/rest";

// An enqueue request, as cronrelay reads it from a repository_dispatch
// event's client_payload.
export type EnqueueRequest = {
  enqueue?: {
    job: string; // a job in the manifest
    id?: string; // makes it idempotent: (job, id) pending twice is one delivery
    delay?: string; // "24h", "90m", "7d"; or `at`
    at?: string; // RFC 3339
    body?: unknown;
    replace?: boolean;
  }[];
  cancel?: { job: string; id: string }[];
};

// Where the cronrelay workflow lives. The token needs "Contents: write" on
// that repository (fine-grained), or the repo scope (classic).
export type Target = {
  owner: string;
  repo: string;
  token: string;
  // https://api.github.com, your GitHub Enterprise Server's /api/v3, or, in
  // development, `cronrelay dev` (http://127.0.0.1:8787).
  apiUrl: string;
};

export function targetFromEnv(env = process.env): Target {
  const [owner = "", repo = ""] = (env.CRONRELAY_REPOSITORY ?? "").split("/");
  return {
    owner,
    repo,
    token: env.CRONRELAY_GITHUB_TOKEN ?? "",
    apiUrl: (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, ""),
  };
}

// With plain fetch: POST /repos/{owner}/{repo}/dispatches.
// https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event
export async function enqueueWithFetch(request: EnqueueRequest, t: Target = targetFromEnv()): Promise<void> {
  const res = await fetch(`${t.apiUrl}/repos/${t.owner}/${t.repo}/dispatches`, {
    method: "POST",
    headers: {
      Accept: "application/vnd.github+json",
      Authorization: `Bearer ${t.token}`,
      "Content-Type": "application/json",
      "X-GitHub-Api-Version": "2022-11-28",
    },
    body: JSON.stringify({ event_type: "cronrelay", client_payload: request }),
  });
  if (res.status !== 204) {
    throw new Error(`repository_dispatch: HTTP ${res.status}: ${await res.text()}`);
  }
}

// With Octokit: the same request.
export async function enqueueWithOctokit(request: EnqueueRequest, t: Target = targetFromEnv()): Promise<void> {
  const octokit = new Octokit({ auth: t.token, baseUrl: t.apiUrl });
  await octokit.repos.createDispatchEvent({
    owner: t.owner,
    repo: t.repo,
    event_type: "cronrelay",
    client_payload: request,
  });
}
