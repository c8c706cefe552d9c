import { describe, expect, it } from 'vitest';
import { graceState, withGraceNotes } from './grace';

const notice = { id: 'limit-api_calls-100', kind: 'limit_notice', metric: 'api_calls', threshold: 100, title: 'Limit reached', body: 'Upgrade to keep going.', blocking: true };
const names = { api_calls: 'call' };

describe('grace at the limit', () => {
  it('knows the ceiling, what is left and whether the meter is past its limit', () => {
    expect(graceState({ used: 10400, limit: 10000 }, 11000)).toEqual({ limit: 11000, remaining: 600, in_grace: true });
    expect(graceState({ used: 9000, limit: 10000 }, 11000)).toEqual({ limit: 11000, remaining: 2000, in_grace: false });
    expect(graceState({ used: 9000, limit: 10000 }, 10000)).toBeNull();
    expect(graceState({ used: 9000, limit: null }, null)).toBeNull();
  });

  it("the 100% notice says how much grace is left and does not block while some is", () => {
    const [p] = withGraceNotes([notice], { api_calls: graceState({ used: 10400, limit: 10000 }, 11000) }, names);
    expect(p).toMatchObject({ body: 'Upgrade to keep going. You have 600 calls of grace left.', blocking: false });
    const [spent] = withGraceNotes([notice], { api_calls: graceState({ used: 11000, limit: 10000 }, 11000) }, names);
    expect(spent).toMatchObject({ body: 'Upgrade to keep going. Your grace allowance is used up.', blocking: true });
  });

  it('leaves other notices and blocking plans alone', () => {
    const ninety = { ...notice, id: 'limit-api_calls-90', threshold: 90, blocking: false };
    expect(withGraceNotes([ninety], { api_calls: graceState({ used: 9500, limit: 10000 }, 11000) }, names)).toEqual([ninety]);
    expect(withGraceNotes([notice], { api_calls: null }, names)).toEqual([notice]);
  });
});
