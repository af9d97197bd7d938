import type { Services } from "../services.js";

/** A job that runs every `interval` ms in every process; its handler calls one verb. */
export interface PeriodicTask {
  name: string;
  /** From the end of one tick to the start of the next. */
  interval: number;
  handler(services: Services): Promise<unknown>;
}

export interface PeriodicTasks {
  /** Stops scheduling ticks and waits for running ones, so no tick is left half-done at shutdown. */
  stop(): Promise<void>;
}

/**
 * Runs one tick of a task unless another process is running this task right now (on a PostgreSQL server, an
 * advisory lock per task; PGlite has one process). Answers whether it ran. A failing tick is logged, and the
 * next one comes as usual.
 */
export async function runTick(services: Services, task: PeriodicTask): Promise<boolean> {
  try {
    return await services.database.exclusively(`cybros:periodic:${task.name}`, () => task.handler(services));
  } catch (error) {
    services.log.error({ err: error, task: task.name }, "periodic task failed");
    return true;
  }
}

/** One timer per task; a tick never overlaps the previous one in this process. */
export function startPeriodicTasks(services: Services, tasks: readonly PeriodicTask[]): PeriodicTasks {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const schedule = (task: PeriodicTask) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const tick = runTick(services, task).finally(() => {
        running.delete(tick);
        schedule(task);
      });
      running.add(tick);
    }, task.interval);
    // The HTTP server keeps a serving process alive; a timer alone should not.
    timer.unref();
    timers.add(timer);
  };
  for (const task of tasks) schedule(task);
  return {
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(running);
    },
  };
}
