import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { isUniqueViolation, type Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Category } from '../../lib/schema.ts';
import { requireRole } from '../middleware/auth.ts';
import { decodeCursor, envelope, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { slugify } from './slug.ts';

const categorySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    imageUrl: z.string().nullable(),
    tags: z.array(z.string()),
    isActive: z.boolean(),
  })
  .openapi('Category');

const slugSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes');
const fields = {
  name: z.string().trim().min(1).max(64),
  slug: slugSchema,
  description: z.string().max(1000),
  imageUrl: z.url({ protocol: /^https?$/ }).max(2048).nullable(),
  tags: z.array(z.string().trim().min(1).max(32)).max(20),
  isActive: z.boolean(),
};

const toItem = (row: Category) => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  description: row.description,
  imageUrl: row.image_url,
  tags: row.tags,
  isActive: row.is_active,
});

const uniqueSlug = (err: unknown) => {
  if (isUniqueViolation(err)) {
    throw new AppError('conflict', 'A category with this slug exists', [{ field: 'slug', message: 'already used' }]);
  }
  throw err;
};

export function categoryRoutes(deps: { db: Db }) {
  const router = createRouter();
  const admin = { security: [{ bearerAuth: [] }], middleware: [requireRole('admin')] };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['categories'],
      summary: 'Active categories by slug',
      request: { query: pageQuerySchema },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(categorySchema) } } },
        ...errorResponses({ 400: 'Invalid cursor or limit' }),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const after = decodeCursor(cursor, z.object({ slug: z.string() }));
      let query = deps.db.selectFrom('categories').selectAll().where('is_active', '=', true);
      if (after) query = query.where('slug', '>', after.slug);
      const rows = await query.orderBy('slug').limit(limit + 1).execute();
      return c.json(page(rows, limit, toItem, (r) => ({ slug: r.slug })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['categories'],
      summary: 'Create a category (admin)',
      ...admin,
      request: {
        body: jsonBody(
          z.object({
            name: fields.name,
            slug: fields.slug.optional(),
            description: fields.description.optional(),
            imageUrl: fields.imageUrl.optional(),
            tags: fields.tags.optional(),
          }),
        ),
      },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: envelope(categorySchema) } } },
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 403: 'Not an admin', 409: 'Slug taken' }),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const slug = input.slug ?? slugify(input.name);
      if (!slugSchema.safeParse(slug).success) {
        throw new AppError('validation_failed', 'Cannot derive a slug from this name; give one', [{ field: 'slug', message: 'required' }]);
      }
      const row = await deps.db
        .insertInto('categories')
        .values({
          name: input.name,
          slug,
          description: input.description ?? '',
          image_url: input.imageUrl ?? null,
          tags: input.tags ?? [],
        })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch(uniqueSlug);
      return c.json(ok(toItem(row)), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['categories'],
      summary: 'Change a category (admin); `isActive: false` hides it',
      ...admin,
      request: {
        params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
        body: jsonBody(z.object(fields).partial().strict()),
      },
      responses: {
        200: { description: 'Updated', content: { 'application/json': { schema: envelope(categorySchema) } } },
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 403: 'Not an admin', 404: 'No such category', 409: 'Slug taken' }),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const row = await deps.db
        .updateTable('categories')
        .set({
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.slug !== undefined ? { slug: input.slug } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.imageUrl !== undefined ? { image_url: input.imageUrl } : {}),
          ...(input.tags !== undefined ? { tags: input.tags } : {}),
          ...(input.isActive !== undefined ? { is_active: input.isActive } : {}),
          updated_at: sql`now()`,
        })
        .where('id', '=', c.req.valid('param').id)
        .returningAll()
        .executeTakeFirst()
        .catch(uniqueSlug);
      if (!row) throw new AppError('not_found', 'No such category');
      return c.json(ok(toItem(row)), 200);
    },
  );

  return router;
}
