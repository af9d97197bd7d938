export * from "./account.js";
export * from "./agents.js";
export * from "./auth.js";
export * from "./conversations.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./providers.js";
export * from "./text.js";
