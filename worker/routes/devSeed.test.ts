import { describe, expect, it } from 'vitest';
import type { SimulationResponse } from '../../shared/simulationSchemas';
import { ADMIN, api, seedAccount } from '../test/api';

const copy = { title: 'Almost there', body: '{used} of {limit} {metric}', cta_label: 'Upgrade', secondary_label: '' };

describe('demo history (development only)', () => {
  it('carries daily API calls, so the upgrade notice moved from 90% to 75% reaches more accounts in a replay', async () => {
    await seedAccount('demo-catalog-holder');
    const seeded = await api('POST', '/v1/admin/dev/seed-history', { token: ADMIN, body: {} });
    expect(seeded.status).toBe(200);
    expect(seeded.json.usage_events).toBeGreaterThan(10_000);
    const again = await api('POST', '/v1/admin/dev/seed-history', { token: ADMIN, body: {} });
    expect(again.json.usage_events).toBe(seeded.json.usage_events);

    const res = await api('POST', '/v1/admin/simulations', {
      token: ADMIN,
      body: {
        definitions: {
          'limit-75': { kind: 'limit_notice', trigger: { metric: '*', thresholds: [75] }, copy, enabled: false },
          'limit-90': { kind: 'limit_notice', trigger: { metric: '*', thresholds: [75, 90] }, copy },
        },
        window_days: 42,
      },
    });
    expect(res.status).toBe(200);
    const body = res.json as SimulationResponse;
    const reached = (run: SimulationResponse['current']) => run.definitions.find((d) => d.definition_id === 'limit-90')!.accounts_shown;
    expect(reached(body.current)).toBeGreaterThan(0);
    expect(reached(body.proposed)).toBeGreaterThan(reached(body.current));
    expect(body.current.thresholds.find((t) => t.metric === 'api_calls' && t.threshold === 90)!.accounts).toBeGreaterThan(10);
  }, 60_000);
});
