import type { Generated, Selectable } from 'kysely';

// Table types for Kysely. Migrations are frozen in time and do not import this file;
// this file follows the newest migration.

export interface SystemPingsTable {
  id: string;
  workflow_id: string;
  created_at: Generated<Date>;
}

export type SystemPing = Selectable<SystemPingsTable>;

export interface Database {
  system_pings: SystemPingsTable;
}
