import { recognisedAcrossCopies, sharedAcrossCopies } from './across-copies.js';
import { StoreUnavailableError } from './store-unavailable.error.js';

/** The class a second copy of @kura/common defines: the same name and shape, another class object. */
function secondCopyOf(name: string) {
  class Copy extends Error {}
  recognisedAcrossCopies(Copy, name);
  return Copy;
}

describe('recognisedAcrossCopies', () => {
  it("makes another copy's StoreUnavailableError an instance of this copy's, and this copy's of the other's", () => {
    const Other = secondCopyOf('StoreUnavailableError');

    expect(new Other('theirs') instanceof StoreUnavailableError).toBe(true);
    expect(new StoreUnavailableError('ours') instanceof Other).toBe(true);
  });

  it('recognises nothing else: other errors, other classes of the package, values that are no objects', () => {
    const Other = secondCopyOf('EmailTakenError');

    for (const value of [new Error('x'), new Other(), null, undefined, 'StoreUnavailableError', { name: 'StoreUnavailableError', reason: 'a look-alike' }]) {
      expect(value instanceof StoreUnavailableError).toBe(false);
    }
  });

  it("keeps a subclass's instanceof as it was: its own instances only, which are still the base's", () => {
    class Narrower extends StoreUnavailableError {}

    expect(new Narrower('op') instanceof Narrower).toBe(true);
    expect(new Narrower('op') instanceof StoreUnavailableError).toBe(true);
    expect(new StoreUnavailableError('op') instanceof Narrower).toBe(false);
  });
});

describe('sharedAcrossCopies', () => {
  it('gives every copy the one value the first made', () => {
    const first = sharedAcrossCopies(`a test's value ${Math.random()}`, () => ({ made: 'first' }));
    const name = `another test's value ${Math.random()}`;
    const made = sharedAcrossCopies(name, () => ({ made: 'first' }));

    expect(sharedAcrossCopies(name, () => ({ made: 'second' }))).toBe(made);
    expect(first.made).toBe('first');
  });
});
