export * from "./account.js";
export * from "./auth.js";
export * from "./errors.js";
