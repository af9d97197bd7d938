import type { accounts, identities, sessions, users } from "./db/schema.js";

export type Account = typeof accounts.$inferSelect;
export type Identity = typeof identities.$inferSelect;
export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;

/**
 * Who is acting in this request: set by the session middleware as `c.var.current` and passed down explicitly.
 * Not kept in an AsyncLocalStorage: on Node 20 one in use makes every promise and callback in the process pay
 * for its propagation (decisions/0016).
 */
export interface Current {
  account: Account;
  identity: Identity;
  user: User;
  session: Session;
}
