import { z } from '@hono/zod-openapi';

// Fields that registration, sign-in and password reset share, so their rules cannot drift apart.

export const emailSchema = z.string().trim().toLowerCase().max(254).email();
export const usernameSchema = z
  .string()
  .min(3)
  .max(30)
  .regex(/^[A-Za-z0-9_]+$/, 'letters, digits and underscores only');
export const passwordSchema = z.string().min(8, 'at least 8 characters').max(128);
