import type { RecordedRequest } from './recorded-request.js';
import type { Provider, Step, StepFn } from './steps.js';

/** Which requests a {@link Script} answers. All given conditions must hold. */
export interface ScriptFilter {
  /** Only model calls to this provider. */
  readonly provider?: Provider;
  /**
   * Only requests whose user texts contain this string: put a unique marker in each agent's
   * prompt and parallel agents of one test each get their own script. The CLIs resend the whole
   * conversation every turn, so the marker keeps matching for the rest of the session.
   */
  readonly marker?: string;
  /** Any other condition on the request. */
  readonly match?: (request: RecordedRequest) => boolean;
  /** Shown in recordings and problems. @default the marker, else `script-<n>` */
  readonly name?: string;
}

/** An ordered queue of steps; each model call routed here takes the next one. */
export class Script {
  readonly name: string;
  readonly filter: ScriptFilter;
  readonly #queue: { step: Step | StepFn; left: number }[] = [];
  readonly #served: RecordedRequest[] = [];

  constructor(name: string, filter: ScriptFilter = {}) {
    this.name = name;
    this.filter = filter;
  }

  /** Appends steps; returns `this` for chaining. */
  push(...steps: (Step | StepFn)[]): this {
    for (const step of steps) {
      const times = typeof step === 'function' ? 1 : (step.times ?? 1);
      if (!(times >= 1)) throw new RangeError(`Expected \`times\` to be at least 1, got \`${times}\``);
      this.#queue.push({ step, left: times });
    }
    return this;
  }

  /** Steps not yet played (`Infinity` if a step repeats forever). */
  get remaining(): number {
    return this.#queue.reduce((n, entry) => n + entry.left, 0);
  }

  /** The requests this script answered, in order. */
  get requests(): readonly RecordedRequest[] {
    return this.#served;
  }

  /** Whether this script's filter takes `request`. */
  accepts(request: RecordedRequest): boolean {
    const { provider, marker, match } = this.filter;
    if (provider !== undefined && provider !== request.provider) return false;
    if (marker !== undefined && !request.userTexts.some((t) => t.includes(marker))) return false;
    return match === undefined || match(request);
  }

  /** Takes the next step for `request`, or `undefined` when the script is used up. */
  take(request: RecordedRequest): Step | undefined {
    const head = this.#queue[0];
    if (head === undefined) return undefined;
    head.left -= 1;
    if (head.left <= 0) this.#queue.shift();
    this.#served.push(request);
    return typeof head.step === 'function' ? head.step(request) : head.step;
  }
}
