import { AsyncLocalStorage } from "node:async_hooks";
import type { accounts, identities, sessions, users } from "./db/schema.js";

export type Account = typeof accounts.$inferSelect;
export type Identity = typeof identities.$inferSelect;
export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;

/** Who is acting in this request; set by the session middleware, read anywhere below it. */
export interface Current {
  account: Account;
  identity: Identity;
  user: User;
  session: Session;
}

const storage = new AsyncLocalStorage<Current>();

export function runWithCurrent<T>(current: Current, fn: () => T): T {
  return storage.run(current, fn);
}

export function current(): Current {
  const value = storage.getStore();
  if (!value) throw new Error("No current user: this code must run inside an authenticated request");
  return value;
}

export function maybeCurrent(): Current | undefined {
  return storage.getStore();
}
