import { ensureWebBuild } from '../../scripts/stack/web-build.ts';

/** The browser tests drive the built app the API serves: build it first when web/ changed. */
export default async function setup() {
  await ensureWebBuild((line) => process.stdout.write(`${line}\n`));
}
