// lib/users.ts: stand-ins for your database and mailer, so that the route
// handlers run as they are in the tests. Replace them with your own.
const converted = new Set<string>();

/** Emails "sent", newest last. */
export const outbox: { to: string; template: string }[] = [];

export async function hasConverted(userId: string): Promise<boolean> {
  return converted.has(userId);
}

export async function markConverted(userId: string): Promise<void> {
  converted.add(userId);
}

export async function sendEmail(userId: string, template: string): Promise<void> {
  outbox.push({ to: userId, template });
}
