import type { Orch } from './context.js';
import { deliverHeld, type HeldDeliveryOutcome } from './delivery.js';

/** How often a running Orch tries held deliveries again when nothing asks sooner. */
export const DELIVERY_RETRY_MS = 10_000;

/**
 * Tries the held delivery of every configured project (or of one), one project after another.
 * Returns what each try did, those with nothing waiting left out; a project whose try failed
 * outright (its clone unreadable) is reported through `onError` and skipped.
 */
export async function retryHeldDeliveries(orch: Orch, options: { project?: string; onError?: (project: string, error: Error) => void } = {}): Promise<HeldDeliveryOutcome[]> {
  const outcomes: HeldDeliveryOutcome[] = [];
  for (const name of Object.keys(orch.config.projects)) {
    if (options.project !== undefined && name !== options.project) continue;
    try {
      const outcome = await deliverHeld(orch, name);
      if (outcome.commits > 0) outcomes.push(outcome);
    } catch (error) {
      options.onError?.(name, error as Error);
    }
  }
  return outcomes;
}

export interface DeliveryRetryOptions {
  /** Only this project's deliveries. */
  project?: string;
  intervalMs?: number;
  /** A held delivery that landed, or one refused for a new reason (a refusal repeated is not told again). */
  onOutcome?: (outcome: HeldDeliveryOutcome) => void;
  onError?: (project: string, error: Error) => void;
}

/**
 * Held deliveries tried again on a timer and at once when asked (`orch serve`, `orch run`): once a
 * person cleans up their checkout, what waits lands without another merge. One round at a time; a
 * request during a round is answered by one more round after it.
 */
export class DeliveryRetry {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private again = false;
  /** The last refusal told per project, so a timer retrying a dirty checkout tells it once. */
  private readonly told = new Map<string, string>();

  constructor(
    private readonly orch: Orch,
    private readonly options: DeliveryRetryOptions = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.request(), this.options.intervalMs ?? DELIVERY_RETRY_MS);
  }

  /** Asks for a round as soon as the one under way (if any) ends. */
  request(): void {
    if (this.round) {
      this.again = true;
      return;
    }
    this.again = false;
    this.round = this.runRound().finally(() => {
      this.round = null;
      if (this.again) this.request();
    });
  }

  /** Stops the timer and waits for the round under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.again = false;
    while (this.round) await this.round;
  }

  private async runRound(): Promise<void> {
    const outcomes = await retryHeldDeliveries(this.orch, { project: this.options.project, onError: this.options.onError });
    const waiting = new Set(outcomes.map((o) => o.project));
    for (const project of this.told.keys()) if (!waiting.has(project)) this.told.delete(project);
    for (const outcome of outcomes) {
      if (outcome.result.delivered) {
        this.told.delete(outcome.project);
        this.options.onOutcome?.(outcome);
        continue;
      }
      const said = `${outcome.result.reason} ${outcome.result.message}`;
      if (this.told.get(outcome.project) === said) continue;
      this.told.set(outcome.project, said);
      this.options.onOutcome?.(outcome);
    }
  }
}
