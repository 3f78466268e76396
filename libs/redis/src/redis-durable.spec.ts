import { followingRedirections, type PipelinedPair } from './redis-durable.js';

/** A pair that answers `reply`, or fails with it when it is an Error, and notes each call on `sent`. */
const pair = (sent: string[], name: string, reply: unknown): PipelinedPair => async () => {
  sent.push(name);
  if (reply instanceof Error) throw reply;
  return [reply, 1];
};

describe('followingRedirections', () => {
  it('meets a master it does not know yet (ASK to a new one) through the client, then sends the write and its WAIT there after ASKING', async () => {
    const sent: string[] = [];
    const known = new Set<string>();
    const sut = followingRedirections({
      routed: pair(sent, 'routed', new Error('ASK 12 10.0.0.4:6379')),
      asking: (address) => (known.has(address) ? pair(sent, `asking ${address}`, 'OK') : undefined),
      relearn: async () => {
        sent.push('relearn');
        known.add('10.0.0.4:6379');
      },
    });

    expect(await sut(['SET', 'k', 'v'], ['WAIT', '1', '100'])).toEqual(['OK', 1]);
    expect(sent).toEqual(['routed', 'relearn', 'asking 10.0.0.4:6379']);
  });

  it('refuses the write when the client cannot learn of that master', async () => {
    const sut = followingRedirections({ routed: pair([], 'routed', new Error('ASK 12 10.0.0.4:6379')), asking: () => undefined, relearn: async () => undefined });

    await expect(sut(['SET', 'k', 'v'], ['WAIT', '1', '100'])).rejects.toThrow('Redis Cluster redirected a write to 10.0.0.4:6379, a master this client does not know');
  });

  it('fails with what the client said when learning fails (node-redis: Cannot find node, for a master that serves no slot yet)', async () => {
    const sut = followingRedirections({
      routed: pair([], 'routed', new Error('ASK 12 10.0.0.4:6379')),
      asking: () => undefined,
      relearn: () => Promise.reject(new Error('Cannot find node 10.0.0.4:6379')),
    });

    await expect(sut(['SET', 'k', 'v'], ['WAIT', '1', '100'])).rejects.toThrow('Cannot find node 10.0.0.4:6379');
  });
});
