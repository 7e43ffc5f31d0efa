import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the OTLP/HTTP JSON exporter sends it, with its attributes flattened. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  readonly status: { code?: number; message?: string };
  readonly events: { name: string; attributes: Record<string, unknown> }[];
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  /** The resource's attributes (service.name, …). */
  readonly resource: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

const flat = (attrs: OtlpAttribute[] | undefined): Record<string, unknown> =>
  Object.fromEntries(
    (attrs ?? []).map((a) => [
      a.key,
      a.value.stringValue ??
        (a.value.intValue === undefined ? undefined : Number(a.value.intValue)) ??
        a.value.doubleValue ??
        a.value.boolValue,
    ]),
  );

/**
 * A real OTLP/HTTP receiver on 127.0.0.1: it parses the JSON bodies the exporter POSTs to
 * `/v1/traces` (or any path) and keeps the spans, the paths and the headers.
 */
export async function startOtlpReceiver(): Promise<{
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly requests: { path: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}> {
  const spans: ReceivedSpan[] = [];
  const requests: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      try {
        const doc = JSON.parse(body) as {
          resourceSpans?: {
            resource?: { attributes?: OtlpAttribute[] };
            scopeSpans?: {
              spans?: (Omit<ReceivedSpan, 'attributes' | 'events' | 'resource'> & {
                attributes?: OtlpAttribute[];
                events?: { name: string; attributes?: OtlpAttribute[] }[];
              })[];
            }[];
          }[];
        };
        for (const rs of doc.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                ...s,
                attributes: flat(s.attributes),
                events: (s.events ?? []).map((e) => ({ name: e.name, attributes: flat(e.attributes) })),
                resource: flat(rs.resource?.attributes),
              });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
