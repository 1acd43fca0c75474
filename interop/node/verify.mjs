// Verifies one signed cronrelay request with the standardwebhooks library,
// as a receiver would. Reads {"secret", "headers", "body"} as JSON on stdin;
// exits 0 when the signature verifies, 1 when it does not, 2 on bad input.
// Used by the Go interop test in internal/deliver.
import { Webhook } from "standardwebhooks";

let input = "";
for await (const chunk of process.stdin) input += chunk;

let req;
try {
  req = JSON.parse(input);
} catch (e) {
  console.error(`verify.mjs: stdin is not JSON: ${e.message}`);
  process.exit(2);
}
if (typeof req.secret !== "string" || typeof req.body !== "string" || typeof req.headers !== "object") {
  console.error('verify.mjs: want {"secret": string, "headers": object, "body": string}');
  process.exit(2);
}

try {
  new Webhook(req.secret).verify(req.body, req.headers);
} catch (e) {
  console.error(`verify.mjs: ${e.name}: ${e.message}`);
  process.exit(1);
}
console.log("verified");
