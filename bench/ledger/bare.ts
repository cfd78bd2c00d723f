import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';

// The baseline: the least a transfer can be in SQL. Two balance updates (the payer's refused
// below zero) and two posting inserts in one transaction, on tables of its own in the same
// database, driven by a plain pg pool, and behind a bare Hono server for the HTTP comparison.

export const BARE_BALANCE = 1_000_000_000_000n;

export async function createBareTables(pool: pg.Pool, accounts: number): Promise<void> {
  await pool.query(`
    create table bench_accounts (id integer primary key, balance bigint not null check (balance >= 0));
    create table bench_postings (
      id bigint generated always as identity primary key,
      account_id integer not null references bench_accounts (id),
      amount bigint not null,
      balance_after bigint not null,
      created_at timestamptz not null default now()
    );
    create index bench_postings_account_idx on bench_postings (account_id, id desc);`);
  await pool.query('insert into bench_accounts (id, balance) select i, $1 from generate_series(0, $2 - 1) i', [BARE_BALANCE.toString(), accounts]);
}

/** One transfer, one statement per round trip as the API's queries go (no pipelining). */
export async function bareTransfer(pool: pg.Pool, from: number, to: number, amount: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const paid = await client.query<{ balance: string }>('update bench_accounts set balance = balance - $2 where id = $1 and balance >= $2 returning balance', [from, amount]);
    if (!paid.rows[0]) throw new Error(`bare account ${from} is out of funds`);
    const got = await client.query<{ balance: string }>('update bench_accounts set balance = balance + $2 where id = $1 returning balance', [to, amount]);
    await client.query('insert into bench_postings (account_id, amount, balance_after) values ($1, $2, $3)', [from, -amount, paid.rows[0].balance]);
    await client.query('insert into bench_postings (account_id, amount, balance_after) values ($1, $2, $3)', [to, amount, got.rows[0]!.balance]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** `POST /transfer/:from/:to` doing bareTransfer of one unit. */
export function startBareServer(pool: pg.Pool): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Hono().post('/transfer/:from/:to', async (c) => {
    await bareTransfer(pool, Number(c.req.param('from')), Number(c.req.param('to')), 1);
    return c.json({ success: true }, 201);
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((done) => server.close(() => done())) }),
    );
  });
}

/** The bare books after a run: every account's balance equals its start plus its postings. */
export async function checkBareBooks(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: number }>(`
    select a.id from bench_accounts a left join bench_postings p on p.account_id = a.id
    group by a.id having a.balance <> $1 + coalesce(sum(p.amount), 0)`, [BARE_BALANCE.toString()]);
  const total = await pool.query<{ sum: string }>('select coalesce(sum(amount), 0)::text as sum from bench_postings');
  return [...rows.map((r) => `bare account ${r.id} differs from its postings`), ...(total.rows[0]!.sum === '0' ? [] : [`bare postings sum to ${total.rows[0]!.sum}, not 0`])];
}
