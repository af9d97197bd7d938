// The page's Content-Security-Policy forbids eval. Zod probes for it when its first object schema is built,
// and even a caught probe is reported as a violation; jitless skips the probe. This classic script runs before
// the app's modules (whatever chunk zod lands in), so it sets zod's global config object directly: the one
// z.config() writes to.
globalThis.__zod_globalConfig = { ...globalThis.__zod_globalConfig, jitless: true };
