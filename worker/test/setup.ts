import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Each test file gets its own storage; apply the real migrations to it once.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
