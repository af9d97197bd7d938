// Preloaded (node --import) into every process the bench spawns: when the bench goes away, or after an hour,
// the process shuts itself down, so nothing the bench started outlives it.
const parent = Number(process.env.BENCH_PARENT_PID);
const deadline = Date.now() + 60 * 60 * 1000;

function parentAlive() {
  try {
    process.kill(parent, 0);
    return process.ppid === parent;
  } catch {
    return false;
  }
}

if (parent) {
  const timer = setInterval(() => {
    if (parentAlive() && Date.now() < deadline) return;
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
    setTimeout(() => process.exit(1), 20_000).unref();
  }, 1000);
  timer.unref();
}
