import { payoutIdFromEndToEndId } from './pain001.ts';

// A bank's report on the transfers of a pain.001 file, as finance uploads it: either the
// bank's pain.002 status report or a CSV of `end_to_end_id,status,reason`. Pure parsing into
// one outcome per payout; anything unreadable is reported by line, never guessed.

export type BankOutcome = 'paid' | 'failed';

export interface BankStatusLine {
  payoutId: string;
  outcome: BankOutcome;
  reason: string | null;
}

export interface BankStatusReport {
  lines: BankStatusLine[];
  /** Lines or transactions that could not be read, with why. */
  problems: { at: string; message: string }[];
}

// ISO 20022 transaction statuses: accepted ones mean the bank executed (or will execute) it.
const PAID = new Set(['ACSC', 'ACCC', 'ACSP', 'ACWC', 'PAID']);
const FAILED = new Set(['RJCT', 'FAILED', 'RETURNED']);
const PENDING = new Set(['PDNG', 'ACTC', 'RCVD']);

function outcomeOf(status: string): BankOutcome | 'pending' | undefined {
  const s = status.trim().toUpperCase();
  if (PAID.has(s)) return 'paid';
  if (FAILED.has(s)) return 'failed';
  if (PENDING.has(s)) return 'pending';
  return undefined;
}

export function parseBankStatus(content: string): BankStatusReport {
  return /<\s*(\w+:)?Document[\s>]/.test(content) ? parsePain002(content) : parseCsv(content);
}

function parseCsv(content: string): BankStatusReport {
  const report: BankStatusReport = { lines: [], problems: [] };
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || (index === 0 && /end.?to.?end/i.test(line))) return;
    const [id = '', status = '', ...rest] = line.split(',').map((cell) => cell.trim().replace(/^"|"$/g, ''));
    const at = `line ${index + 1}`;
    const payoutId = payoutIdFromEndToEndId(id) ?? (/^[0-9a-f-]{36}$/i.test(id) ? id.toLowerCase() : undefined);
    const outcome = outcomeOf(status);
    if (!payoutId) report.problems.push({ at, message: `not an end-to-end id of ours: ${id.slice(0, 40)}` });
    else if (!outcome) report.problems.push({ at, message: `unknown status ${status.slice(0, 20)}` });
    else if (outcome !== 'pending') report.lines.push({ payoutId, outcome, reason: rest.join(',').trim() || null });
  });
  return report;
}

const tag = (xml: string, name: string): string | undefined => new RegExp(`<(?:\\w+:)?${name}>([^<]*)</(?:\\w+:)?${name}>`).exec(xml)?.[1]?.trim();

function parsePain002(content: string): BankStatusReport {
  const report: BankStatusReport = { lines: [], problems: [] };
  const transactions = content.match(/<(?:\w+:)?TxInfAndSts>[\s\S]*?<\/(?:\w+:)?TxInfAndSts>/g) ?? [];
  if (transactions.length === 0) report.problems.push({ at: 'document', message: 'no TxInfAndSts (transaction statuses) in the report' });
  transactions.forEach((tx, index) => {
    const at = `transaction ${index + 1}`;
    const id = tag(tx, 'OrgnlEndToEndId') ?? '';
    const status = tag(tx, 'TxSts') ?? '';
    const payoutId = payoutIdFromEndToEndId(id);
    const outcome = outcomeOf(status);
    if (!payoutId) report.problems.push({ at, message: `not an end-to-end id of ours: ${id.slice(0, 40)}` });
    else if (!outcome) report.problems.push({ at, message: `unknown status ${status.slice(0, 20)}` });
    else if (outcome !== 'pending') {
      const code = tag(tx, 'Cd');
      const info = tag(tx, 'AddtlInf');
      report.lines.push({ payoutId, outcome, reason: outcome === 'failed' ? [code, info].filter(Boolean).join(': ') || 'rejected by the bank' : null });
    }
  });
  return report;
}
