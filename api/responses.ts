import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../lib/errors.ts';

// The success envelope of DESIGN.md §5 and keyset pagination, shared by every route module.

export const envelope = <T extends z.ZodTypeAny>(data: T) => z.object({ success: z.literal(true), data });

export const pageMetaSchema = z.object({
  limit: z.number().int(),
  nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
});

/** An OpenAPI response whose body is the success envelope around `schema`. */
export const enveloped = (schema: z.ZodTypeAny, description: string) => ({ description, content: { 'application/json': { schema: envelope(schema) } } });

/** A required JSON request body validated by `schema`. */
export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

/** Path parameter `{id}` holding a uuid. */
export const uuidParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const pagedEnvelope = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ success: z.literal(true), data: z.array(item), meta: pageMetaSchema });

export const ok = <T>(data: T) => ({ success: true as const, data });

/** The `Idempotency-Key` request header, which makes a retry of the request safe. */
export const idempotencyKeyHeader = (unique: string) =>
  z.object({ 'idempotency-key': z.string().min(1).max(200).openapi({ description: `Unique per ${unique}, e.g. a UUID` }) });

/**
 * 201 with what this request created, or 200 with `Idempotent-Replayed: true` when an earlier
 * request under the same Idempotency-Key created it.
 */
export function createdOrReplayed<T extends object>(c: Context, body: T, created: boolean) {
  if (created) return c.json(body, 201);
  c.header('Idempotent-Replayed', 'true');
  return c.json(body, 200);
}

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Page size, at most 100' }),
  cursor: z.string().max(512).optional().openapi({ description: 'Opaque cursor from the previous page' }),
});

/** Cursors are opaque to clients: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('validation_failed', 'Invalid cursor', [{ field: 'cursor', message: 'not a cursor from this list' }]);
  }
}

/**
 * Cursor of lists ordered by (timestamptz, uuid) descending. `at` is Postgres' own text of
 * the timestamp: a JS Date would drop its microseconds and repeat or skip rows.
 */
export const timeKeyCursorSchema = z.object({
  at: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/),
  id: z.string().uuid(),
});
export type TimeKeyCursor = z.infer<typeof timeKeyCursorSchema>;

/** Fetch `limit + 1` rows; this trims the extra one and turns it into the next cursor. */
export function page<Row, Item, Extra extends object = object>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorOf: (row: Row) => unknown,
  extraMeta?: Extra,
) {
  const hasMore = rows.length > limit;
  const shown = hasMore ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return {
    success: true as const,
    data: shown.map(toItem),
    meta: { limit, nextCursor: hasMore && last !== undefined ? encodeCursor(cursorOf(last)) : null, ...(extraMeta as Extra) },
  };
}

export const errorResponses = (description: Record<number, string>) =>
  Object.fromEntries(
    Object.entries(description).map(([status, text]) => [
      status,
      {
        description: text,
        content: {
          'application/json': {
            schema: z.object({
              success: z.literal(false),
              error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
            }),
          },
        },
      },
    ]),
  );
