import { Lifecycle } from './lifecycle.js';

describe('Lifecycle', () => {
  it('serves, then drains (not ready, connections kept), then closes (connections asked to go)', () => {
    const sut = new Lifecycle();
    expect([sut.draining, sut.closing]).toEqual([false, false]);

    sut.startDraining();
    expect([sut.draining, sut.closing]).toEqual([true, false]);

    sut.startClosing();
    expect([sut.draining, sut.closing]).toEqual([true, true]);
  });

  it('never goes back from closing to draining when a second signal arrives', () => {
    const sut = new Lifecycle();
    sut.startClosing();
    sut.startDraining();

    expect(sut.closing).toBe(true);
  });
});
