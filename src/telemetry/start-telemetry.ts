/**
 * weft's own OpenTelemetry exporter, started only when the standard variables ask for traces. This
 * module imports no OpenTelemetry code itself: the SDK and the exporter are imported when
 * {@link startTelemetry} finds an endpoint, so a run without one loads and costs nothing.
 */
import { WeftError } from '../core/errors.js';
import type { RunTracer, RunTracerOptions } from './run-tracer.js';
import type { WorkerTracer } from './worker-tracer.js';

/** The environment variables weft reads (the OpenTelemetry SDK's standard names). */
export type TelemetryEnv = Readonly<Record<string, string | undefined>>;

/** Where spans go and what they are sent with, as read from {@link TelemetryEnv}. */
export interface TelemetryConfig {
  /** The OTLP/HTTP traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  readonly url: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS`, with `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over it. */
  readonly headers: Readonly<Record<string, string>>;
  /** `OTEL_SERVICE_NAME`. @default 'weft' */
  readonly serviceName: string;
}

/** A started exporter: make a tracer per run, and flush before the process exits. */
export interface Telemetry {
  readonly config: TelemetryConfig;
  /** A {@link RunTracer} whose spans this exporter sends. */
  tracer(options?: RunTracerOptions): RunTracer;
  /** A {@link WorkerTracer} (`weft worker`) whose spans this exporter sends. */
  workerTracer(): WorkerTracer;
  /**
   * Sends every span still buffered, then stops; never throws (a failure is said once on `warn`).
   * `'gave up'` when an export was still being retried: the exporter's retry timers may then keep
   * the process alive for up to its export timeout, which a command ending now should not wait out.
   */
  shutdown(): Promise<'flushed' | 'gave up'>;
}

/**
 * Reads the OpenTelemetry variables: `undefined` when no traces endpoint is set, or when
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns traces off.
 *
 * @throws WeftError (`WEFT_USAGE`) naming the variable when an endpoint is not an http(s) URL.
 */
export function telemetryConfig(env: TelemetryEnv): TelemetryConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return undefined;
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const generic = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (specific === undefined && generic === undefined) return undefined;
  const name = specific === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  const given = (specific ?? generic) as string;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WeftError('WEFT_USAGE', `${name}: "${given}" is not an http(s) URL`, {
      hint: `set it to the collector's OTLP/HTTP address, e.g. ${name}=http://localhost:4318${specific === undefined ? '' : '/v1/traces'}`,
    });
  // The spec: the generic endpoint is a base to which the signal's path is appended; the
  // traces endpoint is used as given.
  const full = specific === undefined ? `${given.replace(/\/+$/, '')}/v1/traces` : given;
  return {
    url: full,
    headers: {
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? 'weft',
  };
}

/** `key1=value1,key2=value2`, each part URL-encoded (the W3C baggage format the spec uses). */
export function parseHeaders(value: string | undefined, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (value ?? '').split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : safeDecode(part.slice(0, eq).trim());
    if (key === '')
      throw new WeftError('WEFT_USAGE', `${name}: "${part.split('=')[0]?.trim() ?? ''}…" is not key=value`, {
        hint: `write ${name}=key1=value1,key2=value2 (URL-encode a comma or = inside a value)`,
      });
    headers[key] = safeDecode(part.slice(eq + 1).trim());
  }
  return headers;
}

/** Values of the OTLP header variables, which often hold a collector's API key: mask them like secrets. */
export function telemetrySecrets(env: TelemetryEnv): string[] {
  const values: string[] = [];
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'])
    for (const part of (env[name] ?? '').split(',')) {
      const eq = part.indexOf('=');
      if (eq >= 0) values.push(safeDecode(part.slice(eq + 1).trim()));
    }
  return values.filter((v) => v !== '');
}

/** Options of {@link startTelemetry}. */
export interface StartTelemetryOptions {
  /** `service.version` of the resource. */
  readonly serviceVersion?: string;
  /** Where a failed export is said, once. @default a line on stderr */
  readonly warn?: (line: string) => void;
}

/** How long the end of a run waits for spans once an export attempt has failed and is retried, ms. */
const RETRY_GRACE_MS = 1500;

/**
 * Starts an OTLP/HTTP (JSON) trace exporter when `env` names an endpoint (see {@link telemetryConfig});
 * `undefined` otherwise, without importing any OpenTelemetry module. Spans are batched (the SDK's
 * `OTEL_BSP_*` variables apply) and sent at the latest by {@link Telemetry.shutdown}.
 *
 * @example
 * const telemetry = await startTelemetry(process.env);
 * const tracer = telemetry?.tracer({ redact });
 * try { await runPlan({ ...options, onEvent: tracer?.onEvent }); } finally { await telemetry?.shutdown(); }
 */
export async function startTelemetry(
  env: TelemetryEnv,
  options: StartTelemetryOptions = {},
): Promise<Telemetry | undefined> {
  const config = telemetryConfig(env);
  if (config === undefined) return undefined;
  const [api, sdk, otlp, resources, { createRunTracer }, { createWorkerTracer }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('./run-tracer.js'),
    import('./worker-tracer.js'),
  ]);
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  let warned = false;
  const warnOnce = (message: unknown): void => {
    if (warned) return;
    warned = true;
    const why = message instanceof Error ? message.message : String(message);
    warn(`weft: telemetry: could not send spans to ${config.url} (${why.split('\n')[0] ?? why})`);
  };
  // Set when an export attempt fails and the exporter retries (a collector that is down or busy).
  let retried: (() => void) | undefined;
  const retrying = new Promise<void>((resolve) => (retried = resolve));
  // The SDK reports a failed export through diag; that is the one thing weft says about it.
  api.diag.setLogger(
    {
      error: (message, ...args) => warnOnce(args.find((a) => a instanceof Error) ?? message),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: (message) => {
        if (message.startsWith('Scheduling export retry')) retried?.();
      },
    },
    api.DiagLogLevel.VERBOSE,
  );
  const resource = resources
    .resourceFromAttributes({
      'service.name': config.serviceName,
      ...(options.serviceVersion === undefined ? {} : { 'service.version': options.serviceVersion }),
    })
    // OTEL_RESOURCE_ATTRIBUTES, and OTEL_SERVICE_NAME over it, as every SDK reads them.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const exporter = new otlp.OTLPTraceExporter({ url: config.url, headers: { ...config.headers } });
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [new sdk.BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('weft', options.serviceVersion);
  let shut: Promise<'flushed' | 'gave up'> | undefined;
  return {
    config,
    tracer: (tracerOptions) => createRunTracer(tracer, tracerOptions),
    workerTracer: () => createWorkerTracer(tracer),
    shutdown: () =>
      (shut ??= (async () => {
        // A collector that failed an attempt gets one more chance, not the exporter's ~10 s of
        // retries that a run would wait out at its end (a refused connection took 9 s).
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = retrying.then(
          () => new Promise<'gave up'>((resolve) => (timer = setTimeout(() => resolve('gave up'), RETRY_GRACE_MS))),
        );
        try {
          if ((await Promise.race([provider.forceFlush(), gaveUp])) === 'gave up') {
            warnOnce('no success after a retry; gave up waiting at exit');
            return 'gave up';
          }
          await provider.shutdown();
        } catch (error) {
          warnOnce(error);
        } finally {
          clearTimeout(timer);
        }
        return 'flushed';
      })()),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
