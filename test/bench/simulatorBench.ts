/**
 * The rule simulator's bench, run by `test/bench/simulator.mjs` in a child process (bundled by
 * esbuild): `node simulator-bench.mjs <accounts> <users per account> <days> [replay]` builds that
 * much stored history (`benchHistory`) and replays it once under the built-in rules with
 * `simulate` (or, given `replay`, with the straightforward `simulateByReplay` it is tested
 * against), printing one JSON line. Only the replay is timed (wall clock and this process's CPU
 * time), with the 1-minute load average before and after it.
 */
import { loadavg } from 'node:os';
import { defaultActivation, defaultPrompts } from '../../shared/prompts';
import { simulate } from '../../shared/simulator';
import { benchHistory } from '../../shared/simulatorHistory';
import { simulateByReplay } from '../../shared/simulatorReplay';

const [accounts = 1000, usersPerAccount = 10, days = 90] = process.argv.slice(2, 5).map(Number);
const straightforward = process.argv[5] === 'replay';
const history = benchHistory(1, accounts, usersPerAccount, days);
const events = history.accounts.reduce((s, a) => s + a.events.length, 0);
const usageRows = history.accounts.reduce((s, a) => s + a.usage.length, 0);
const load = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = (straightforward ? simulateByReplay : simulate)(history, { definitions: defaultPrompts, activation: defaultActivation });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    replay: straightforward ? 'simulateByReplay' : 'simulate',
    accounts,
    users: accounts * usersPerAccount,
    days,
    prompt_events: events,
    usage_rows: usageRows,
    sessions: result.totals.sessions,
    impressions: result.totals.impressions,
    ms,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    load: [load, loadavg()[0]],
  }) + '\n',
);
