import type { ClaimedDirective, NexusConfig } from "@cybros/protocol";
import { nexusPlatform } from "cybros-nexus";
import { ConduitsClient } from "../../packages/nexus/src/client.js";
import type { Api } from "./client.js";

const STUB_VERSION = "bench-stub";

/**
 * A Nexus that runs nothing: it enrolls a territory, claims directives through the Conduits API and heartbeats
 * them as a real Nexus does, and reports each one finished when the scenario says so. Runs then wait on
 * directives for exactly as long as a scenario wants.
 */
export class StubNexus {
  private readonly claimed = new Map<string, ClaimedDirective>();
  private readonly timers: NodeJS.Timeout[];

  private constructor(
    private readonly client: ConduitsClient,
    private readonly capacity: number,
    config: NexusConfig,
  ) {
    // A missed beat is the lease's business, as on a real machine.
    const territory = () => void this.territoryHeartbeat().catch(() => {});
    const directives = () => {
      for (const directive of this.claimed.values()) void this.client.directiveHeartbeat(directive).catch(() => {});
    };
    this.timers = [
      setInterval(territory, config.heartbeat_interval_seconds * 1000),
      setInterval(directives, config.directive_heartbeat_interval_seconds * 1000),
    ];
  }

  /** Enrolls a territory called `name` that runs up to `capacity` directives at once. */
  static async enroll(api: Api, name: string, capacity: number): Promise<StubNexus> {
    const { token } = await api.request<{ token: string }>("POST", "/api/territories/enrollment-tokens");
    const enrolled = await ConduitsClient.enroll(api.baseUrl, {
      enroll_token: token,
      name,
      platform: nexusPlatform(),
      labels: {},
      capacity,
    });
    const client = new ConduitsClient(api.baseUrl, enrolled.territory_token);
    const nexus = new StubNexus(client, capacity, enrolled.config);
    await nexus.territoryHeartbeat();
    return nexus;
  }

  /** Claims and starts directives until `count` more are held; fails after `timeoutMs`. */
  async claim(count: number, timeoutMs = 60_000): Promise<ClaimedDirective[]> {
    const deadline = Date.now() + timeoutMs;
    const taken: ClaimedDirective[] = [];
    while (taken.length < count) {
      if (Date.now() > deadline) throw new Error(`the stub Nexus claimed ${taken.length} of ${count} directives`);
      const { directives } = await this.client.poll({
        max_directives: Math.min(16, count - taken.length),
        supported_drivers: ["host"],
        wait_seconds: 1,
      });
      for (const directive of directives) {
        await this.client.started(directive, STUB_VERSION);
        this.claimed.set(directive.directive_id, directive);
        taken.push(directive);
      }
    }
    return taken;
  }

  /** Reports the directive succeeded, its stdout `stdout`. */
  async finish(directive: ClaimedDirective, stdout = ""): Promise<void> {
    this.claimed.delete(directive.directive_id);
    if (stdout) await this.client.logChunk(directive, "stdout", 0, Buffer.from(stdout));
    await this.client.finished(directive, { status: "succeeded", exit_code: 0 });
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  private async territoryHeartbeat(): Promise<void> {
    await this.client.heartbeat({
      capacity: this.capacity,
      running: this.claimed.size,
      drivers: ["host"],
      nexus_version: STUB_VERSION,
    });
  }
}
