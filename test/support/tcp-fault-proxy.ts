import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy between a client and a server (Redis, say) that can stall: `blackhole` holds every byte sent to
 * the server from then on (the server never sees the commands, the client never hears back), `holdWhen` holds
 * one connection's bytes from the first chunk that matches (a write command, say), and `pass` delivers what was
 * held, in order, so the client's stream of replies stays in step with its commands.
 */
export interface TcpFaultProxy {
  readonly port: number;
  set(mode: 'pass' | 'blackhole'): void;
  holdWhen(matches: (chunk: Buffer) => boolean): void;
  close(): Promise<void>;
}

interface Link {
  readonly upstream: Socket;
  held: Buffer[] | undefined;
}

export async function startTcpFaultProxy(targetPort: number): Promise<TcpFaultProxy> {
  const links = new Set<Link>();
  let blackhole = false;
  let matcher: ((chunk: Buffer) => boolean) | undefined;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const link: Link = { upstream, held: undefined };
    links.add(link);
    client.on('data', (chunk) => {
      if (!link.held && (blackhole || matcher?.(chunk))) link.held = [];
      if (link.held) link.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    set(mode) {
      blackhole = mode === 'blackhole';
      if (blackhole) return;
      matcher = undefined;
      for (const link of links) {
        for (const chunk of link.held ?? []) link.upstream.write(chunk);
        link.held = undefined;
      }
    },
    holdWhen(matches) {
      matcher = matches;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) link.upstream.destroy();
        server.close(() => resolve());
      }),
  };
}
