// A busy neighbour for `npm run bench -- --neighbour`: burns one core until stopped, for BENCH_NEIGHBOUR_MS at
// most (default 30 minutes), then exits by itself. It yields to its event loop between slices so the preloaded
// watchdog still runs and stops it when the bench goes away.
const limitMs = Number(process.env.BENCH_NEIGHBOUR_MS) || 30 * 60 * 1000;
const SLICE_MS = 50;
const end = Date.now() + limitMs;
let sink = 0;

function burn() {
  const sliceEnd = Math.min(Date.now() + SLICE_MS, end);
  while (Date.now() < sliceEnd) {
    for (let i = 0; i < 10_000; i++) sink += Math.sqrt(i);
  }
  if (Date.now() < end) setImmediate(burn);
  else process.exit(0);
}

console.log(JSON.stringify({ neighbour: process.pid, limitMs }));
burn();
process.on("exit", () => void sink);
