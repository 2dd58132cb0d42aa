/**
 * What a test of release trains on the local cluster needs besides the cluster itself (test/helpers/kubernetes.ts):
 * a timeline of what happened, as the API server's watches saw it; a train run with client traffic sent while it
 * runs; what a promoted train's gates must have read; and a look at what Prometheus scraped.
 */
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { ChangeRequest } from '../../core/change-request';
import { PrometheusHealthSource } from '../../delivery/prometheus-health';
import { runTraffic, type TrafficOptions } from '../../delivery/traffic';
import type { releaseTrain } from '../../workflows/release-train';

/** Lines stamped with the seconds since the timeline started, to be printed at the end of a test. */
export class Timeline {
  private readonly entries: { at: number; line: string }[] = [];
  private readonly started = Date.now();

  /** `+ 12.34s` for now (or for `at`, epoch ms). */
  stamp(at = Date.now()): string {
    return `+${((at - this.started) / 1000).toFixed(2).padStart(6)}s`;
  }
  /** A line at `at` (default now): watches and probes report what happened a moment ago, so lines may come late. */
  log(line: string, at = Date.now()): void {
    this.entries.push({ at, line: `${this.stamp(at)}  ${line}` });
  }
  /** In the order things happened (lines of the same moment as logged). */
  get lines(): string[] {
    return [...this.entries].sort((a, b) => a.at - b.at).map((e) => e.line);
  }
}

/**
 * Watches of one API server, each opened again when the server refuses it (429 while a new CRD's watch cache fills)
 * or ends it; an object's ADDED is delivered once, not again on each reopening.
 */
export class ClusterWatches {
  private readonly requests: { abort(): void }[] = [];
  private readonly added = new Set<string>();
  private open = true;

  constructor(private readonly config: k8s.KubeConfig) {}

  async watch(pathName: string, onEvent: (phase: string, object: Record<string, any>) => void): Promise<void> {
    const once = (phase: string, object: Record<string, any>) => {
      const key = `${pathName} ${object.metadata.uid}`;
      if (phase === 'ADDED' && this.added.has(key)) return;
      this.added.add(key);
      onEvent(phase, object);
    };
    this.requests.push(await new k8s.Watch(this.config).watch(pathName, {}, once, () => void (this.open && setTimeout(() => void this.watch(pathName, onEvent), 300))));
  }

  stop(): void {
    this.open = false;
    for (const request of this.requests) request.abort();
  }
}

/** One train, with client traffic sent (to `traffic.url`) while it runs: a train on a cluster generates none itself. */
export async function trainWithTraffic(client: Client, input: { taskQueue: string; workflowId: string; request: ChangeRequest; traffic: TrafficOptions }) {
  const stop = new AbortController();
  const sent = runTraffic(input.traffic, stop.signal);
  try {
    const handle = await client.workflow.start<typeof releaseTrain>('releaseTrain', { taskQueue: input.taskQueue, workflowId: input.workflowId, args: [input.request] });
    const result = await handle.result();
    stop.abort();
    return { result, traffic: await sent };
  } finally {
    stop.abort();
    await sent;
  }
}

/**
 * What a train promoted on the cluster must show: its last probe read both templates from Prometheus at
 * `prometheusUrl`, green, on the canary's own requests (`canaryUpstream`, the upstream label of the version the
 * deployer names), and the rollout went through its 10, 50 and 100% steps.
 */
export function expectPromotedOnPrometheus(result: Awaited<ReturnType<typeof releaseTrain>>, prometheusUrl: string, canaryUpstream: string): void {
  const lastProbe = result.rollout!.decisions!.at(-1)!;
  expect(lastProbe.source).toMatchObject({ kind: 'prometheus', url: prometheusUrl });
  expect(lastProbe.metrics!.map((m) => [m.name, m.outcome])).toEqual([
    ['request-success-rate', 'pass'],
    ['request-duration', 'pass'],
  ]);
  expect(lastProbe.metrics![0]!.query).toContain(`upstream="${canaryUpstream}"`);
  expect(result.rollout!.decisions!.map((d) => d.weight)).toEqual(expect.arrayContaining([10, 50, 100]));
}

/** A series' greatest value over the last minutes (a Pod gone is no longer scraped: its last samples are stale now). */
export async function seenInPrometheus(prometheusUrl: string, query: string): Promise<number> {
  const source = new PrometheusHealthSource({ url: prometheusUrl, routes: async () => ({ stable: null, canary: null, weight: 0 }) });
  const samples = await source.query(`sum(max_over_time(${query}[5m]))`);
  return samples[0]?.value ?? 0;
}
