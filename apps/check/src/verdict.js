// From what the users saw under each balancer mode and phase, one verdict among exactly four.
export const VERDICTS = ['stateless', 'needs affinity', 'breaks even with affinity', 'loses state on restart'];

export const EXIT = { stateless: 0, notStateless: 1, cannotJudge: 2 };

const failed = (mode, phase) => (mode?.phases[phase]?.failures ?? 0) > 0;

/**
 * `modes` maps 'round-robin' and 'cookie-affinity' to their recorded counts (see Recorder).
 * - breaks even with affinity: a loss while every request of a user goes to one replica and none is restarted;
 * - needs affinity: losses under round robin while nothing is restarted (and none with affinity);
 * - loses state on restart: round robin is fine until a replica is killed or rolled;
 * - stateless: nothing lost anywhere.
 */
export function verdictOf(modes) {
  const rr = modes['round-robin'];
  const affinity = modes['cookie-affinity'];
  if (failed(affinity, 'steady')) return 'breaks even with affinity';
  if (failed(rr, 'steady')) return 'needs affinity';
  if ([rr, affinity].some((mode) => failed(mode, 'kill') || failed(mode, 'rolling'))) return 'loses state on restart';
  return 'stateless';
}
