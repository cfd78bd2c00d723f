import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Each checkout owns its own databases, so two checkouts on one machine (a CI clone beside a
// developer's tree, or two worktrees) can run their suites at once: a run's clean-up of
// leftovers never drops another checkout's template or files' databases.
const checkout = createHash('sha256')
  .update(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'))
  .digest('hex')
  .slice(0, 6);

// Names of everything the tests own, so they never touch what `npm start` keeps.
export const testResources = {
  templateDatabase: `streamhub_test_template_${checkout}`,
  databasePrefix: `streamhub_t_${checkout}_`,
  namespace: 'streamhub-test',
  /** For tests of what provisioning creates under fixed names (the maintenance Schedules). */
  provisioningNamespace: `streamhub-test-provision-${checkout}`,
  bucket: 'streamhub-test',
  mongoDatabasePrefix: `streamhub_t_${checkout}_`,
} as const;

/** Environment shared by every test process (set by the global setup before forks start). */
export function testEnvOverrides(baseDatabaseUrl: string): Record<string, string> {
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/${testResources.templateDatabase}`;
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: url.toString(),
    TEMPORAL_NAMESPACE: testResources.namespace,
    S3_BUCKET: testResources.bucket,
    MONGO_DATABASE: `${testResources.mongoDatabasePrefix}shared`,
    NATS_SUBJECT_PREFIX: 'test.',
    // Test files register many users from one address; the rate-limit tests set their own limits.
    RATE_LIMIT_GENERAL_PER_MINUTE: '100000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    RATE_LIMIT_REGISTER_PER_HOUR: '100000',
    RATE_LIMIT_PASSWORD_RESET_PER_HOUR: '100000',
    RATE_LIMIT_VERIFICATION_EMAILS_PER_HOUR: '100000',
    RATE_LIMIT_TWO_FACTOR_PER_HOUR: '100000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
