import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** One request to a service. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Accept a certificate that does not verify (a self-hosted service's own; `?verify=no`). */
  readonly insecure?: boolean;
}

/** What the service answered: the status, headers and the start of the body. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** Services answer in a few KB; more is not kept (the answer is for the delivery history). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends one request on a fresh connection and reads at most 64 KB of the answer. Rejects with the
 * socket's error (its `code` says what failed) or, past `timeoutMs`, with code `ETIMEDOUT`. Node's
 * `http` rather than `fetch`: a channel may need to accept a self-signed certificate, which `fetch`
 * cannot do per request.
 */
export function httpRequest(request: HttpRequest, timeoutMs: number): Promise<HttpAnswer> {
  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = client.request(url, {
      method: request.method,
      headers: {
        'user-agent': 'Beacon-Notify/1',
        ...request.headers,
        ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }),
      },
      agent: false,
      rejectUnauthorized: !request.insecure,
    });
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (bytes < MAX_ANSWER_BYTES) chunks.push(chunk);
        bytes += chunk.length;
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
        });
      });
    });
    req.end(request.body);
  });
}
