import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypesFile, generateApiTypes } from '../../scripts/web-api-types.ts';

// The web app's client is typed from web/src/api/schema.ts. A route whose schema changed
// without `npm run web:api-types` would leave the app compiling against an API that no longer exists.

describe('web app API types', () => {
  it('are what the OpenAPI document generates today (run `npm run web:api-types` after changing a route)', async () => {
    expect(readFileSync(apiTypesFile, 'utf8') === (await generateApiTypes()), 'web/src/api/schema.ts is stale: run `npm run web:api-types`').toBe(true);
  });
});
