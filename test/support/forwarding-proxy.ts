import { Agent, createServer, request as httpRequest } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

/** A reverse proxy on loopback, in front of one upstream. */
export interface ForwardingProxy {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * One proxy hop as an ingress controller makes it: every request goes to `target` with the address the proxy
 * saw appended to whatever `X-Forwarded-For` the client sent (nginx's `$proxy_add_x_forwarded_for`), and
 * `X-Forwarded-Proto` set to the scheme the client used.
 */
export async function startForwardingProxy(target: string): Promise<ForwardingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const sent = req.headers['x-forwarded-for'];
    const seen = req.socket.remoteAddress ?? '';
    const headers = { ...req.headers, 'x-forwarded-for': sent ? `${sent}, ${seen}` : seen, 'x-forwarded-proto': 'http' };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        void listening.close().then(resolve);
      }),
  };
}
