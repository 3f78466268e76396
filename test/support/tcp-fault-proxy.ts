import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy between a client and a server (Redis, say) that can stall: `blackhole` holds every byte sent to
 * the server from then on (the server never sees the commands, the client never hears back), `holdWhen` holds
 * one connection's bytes from the first chunk that matches (a write command, say), and `pass` delivers what was
 * held, in order, so the client's stream of replies stays in step with its commands. `loseReplyOf` passes the
 * next matching chunk on, then cuts that connection instead of passing the reply back: the command was carried
 * out, and the client never heard.
 */
export interface TcpFaultProxy {
  readonly port: number;
  set(mode: 'pass' | 'blackhole'): void;
  holdWhen(matches: (chunk: Buffer) => boolean): void;
  loseReplyOf(matches: (chunk: Buffer) => boolean): { lost: Promise<void> };
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
  let losing: { matches: (chunk: Buffer) => boolean; lost: () => void } | undefined;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const link: Link = { upstream, held: undefined };
    links.add(link);
    let dropReply: (() => void) | undefined;
    client.on('data', (chunk) => {
      if (!link.held && (blackhole || matcher?.(chunk))) link.held = [];
      if (link.held) return void link.held.push(chunk);
      if (losing?.matches(chunk)) {
        dropReply = losing.lost;
        losing = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!dropReply) return void client.write(chunk);
      dropReply();
      client.destroy();
      upstream.destroy();
    });
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
    loseReplyOf(matches) {
      let lost!: () => void;
      const promise = new Promise<void>((resolve) => (lost = resolve));
      losing = { matches, lost };
      return { lost: promise };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) link.upstream.destroy();
        server.close(() => resolve());
      }),
  };
}
