import { benchApi } from './api.ts';
import { benchAuth } from './auth.ts';
import { benchFanout } from './fanout.ts';
import { benchFeed } from './feed.ts';
import { benchGolive } from './golive.ts';
import { benchLedger } from './ledger.ts';
import { benchLedgerDb } from './ledger-db.ts';
import { benchPayouts } from './payouts.ts';
import { benchPing } from './ping.ts';
import { benchRealtime } from './realtime.ts';
import { benchReports } from './reports.ts';
import { benchSearch } from './search.ts';
import { benchTranscode } from './transcode.ts';
import { benchViewerKeys } from './viewer-keys.ts';
import { benchViews } from './views.ts';
import { benchWeb } from './web.ts';

// `npm run bench -- <name> [args…]`. Every bench prints its figures next to a baseline
// measured in the same run; none of them asserts a timing.
const benches: Record<string, (args: string[]) => Promise<void>> = {
  api: benchApi,
  auth: benchAuth,
  fanout: benchFanout,
  feed: benchFeed,
  golive: benchGolive,
  ledger: benchLedger,
  'ledger-db': benchLedgerDb,
  payouts: benchPayouts,
  ping: benchPing,
  realtime: benchRealtime,
  reports: benchReports,
  search: benchSearch,
  transcode: benchTranscode,
  'viewer-keys': benchViewerKeys,
  views: benchViews,
  web: benchWeb,
};

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const [name = 'ping', ...args] = process.argv.slice(2);
const bench = benches[name];
if (!bench) {
  process.stderr.write(`Unknown bench "${name}"; choose one of: ${Object.keys(benches).join(', ')}\n`);
  process.exit(64);
}
await bench(args);
