import { describe, expect, it } from 'vitest';
import { parseBankStatus } from '../../lib/payouts/bank-status.ts';
import { ibanProblem, maskIban, normalizeIban } from '../../lib/payouts/iban.ts';
import { formatMinorUnits, parseMinorUnits } from '../../lib/payouts/money-format.ts';
import { compactId, payoutIdFromEndToEndId, renderPain001, type Pain001Input } from '../../lib/payouts/pain001.ts';
import { createSecretBox, payoutDataKey } from '../../lib/secret-box.ts';

const RUN = '0f8fad5b-d9cb-469f-a165-70867728950e';
const ids = ['11111111-2222-4333-8444-555555555555', '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'a3bb189e-8bf9-4888-9912-ace4e6543002'];

const input = (overrides: Partial<Pain001Input> = {}): Pain001Input => ({
  runId: RUN,
  currency: 'EUR',
  createdAt: new Date('2026-12-02T10:11:12.345Z'),
  executionDate: '2026-12-02',
  debtor: { name: 'StreamHub Ltd', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
  transfers: [
    { payoutId: ids[0]!, amount: 5000n, creditorName: 'Zoë Müller & Co', creditorIban: 'FR1420041010050500013M02606', remittance: 'payout' },
    { payoutId: ids[1]!, amount: 123_456_789n, creditorName: 'Ana <b>', creditorIban: 'GB82WEST12345698765432', remittance: 'payout' },
    { payoutId: ids[2]!, amount: 1n, creditorName: 'Li', creditorIban: 'NL91ABNA0417164300', remittance: 'payout' },
  ],
  ...overrides,
});

const all = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);

describe('pain.001 renderer', () => {
  it('declares a count and control sum equal to its transactions, in exact decimals of the currency', () => {
    const xml = renderPain001(input());
    expect(all(xml, 'NbOfTxs')).toEqual(['3', '3']);
    expect(all(xml, 'CtrlSum')).toEqual(['1234617.90', '1234617.90']);
    expect(all(xml, 'InstdAmt')).toEqual(['50.00', '1234567.89', '0.01']);
    const sum = all(xml, 'InstdAmt').reduce((s, a) => s + parseMinorUnits(a, 'EUR'), 0n);
    expect(formatMinorUnits(sum, 'EUR')).toBe(all(xml, 'CtrlSum')[0]);
  });

  it('uses each payout id as its end-to-end id, the run as message id, and the given creation time', () => {
    const xml = renderPain001(input());
    expect(all(xml, 'EndToEndId')).toEqual(ids.map(compactId));
    expect(all(xml, 'EndToEndId').map(payoutIdFromEndToEndId)).toEqual(ids);
    expect(all(xml, 'MsgId')).toEqual([compactId(RUN)]);
    expect(all(xml, 'CreDtTm')).toEqual(['2026-12-02T10:11:12']);
    for (const id of all(xml, 'EndToEndId')) expect(id.length).toBeLessThanOrEqual(35);
  });

  it('renders currencies without and with three decimals exactly', () => {
    expect(all(renderPain001(input({ currency: 'JPY' })), 'InstdAmt')).toEqual(['5000', '123456789', '1']);
    expect(all(renderPain001(input({ currency: 'KWD' })), 'InstdAmt')).toEqual(['5.000', '123456.789', '0.001']);
    expect(renderPain001(input({ currency: 'USD' }))).not.toContain('<SvcLvl>');
    expect(renderPain001(input())).toContain('<SvcLvl><Cd>SEPA</Cd></SvcLvl>');
  });

  it('keeps names to the banks’ character set and escapes nothing into markup', () => {
    const xml = renderPain001(input());
    expect(all(xml, 'Nm')).toContain('Zoe Muller Co');
    expect(xml).not.toContain('<b>');
    expect(all(xml, 'IBAN')).toEqual(['DE89370400440532013000', 'FR1420041010050500013M02606', 'GB82WEST12345698765432', 'NL91ABNA0417164300']);
  });

  it('is the same text every time for the same run (a retried upload writes the same file)', () => {
    expect(renderPain001(input())).toBe(renderPain001(input()));
  });

  it('refuses an empty file and non-positive amounts', () => {
    expect(() => renderPain001(input({ transfers: [] }))).toThrow(RangeError);
    expect(() => renderPain001(input({ transfers: [{ payoutId: ids[0]!, amount: 0n, creditorName: 'x', creditorIban: 'x', remittance: '' }] }))).toThrow(RangeError);
  });
});

describe('minor units', () => {
  it('formats and parses exactly, refusing extra decimals', () => {
    expect(formatMinorUnits(0n, 'USD')).toBe('0.00');
    expect(formatMinorUnits(-5n, 'USD')).toBe('-0.05');
    expect(formatMinorUnits(9_007_199_254_740_993n, 'USD')).toBe('90071992547409.93');
    expect(parseMinorUnits('90071992547409.93', 'USD')).toBe(9_007_199_254_740_993n);
    expect(parseMinorUnits('12.3', 'USD')).toBe(1230n);
    expect(() => parseMinorUnits('1.234', 'USD')).toThrow(RangeError);
    expect(() => parseMinorUnits('1.5', 'JPY')).toThrow(RangeError);
  });
});

describe('IBAN', () => {
  it('accepts valid IBANs in any spacing and case, and says what is wrong with others', () => {
    expect(ibanProblem(normalizeIban('de89 3704 0044 0532 0130 00'))).toBeNull();
    expect(ibanProblem('GB82WEST12345698765432')).toBeNull();
    expect(ibanProblem('GB82WEST12345698765433')).toBe('checksum');
    expect(ibanProblem('DE8937040044053201300')).toBe('length');
    expect(ibanProblem('ZZ89370400440532013000')).toBe('country');
    expect(ibanProblem('12345')).toBe('format');
  });

  it('masks all but the country and the last four characters', () => {
    const masked = maskIban('DE89370400440532013000');
    expect(masked.replace(/ /g, '')).toMatch(/^DE•{16}3000$/);
    expect(masked).not.toContain('8937');
  });

  it('seals bank details so that only the key opens them, and tampering is detected', () => {
    const box = createSecretBox(payoutDataKey('a secret of thirty-two characters!'));
    const sealed = box.seal('DE89370400440532013000');
    expect(sealed).not.toContain('DE89');
    expect(box.open(sealed)).toBe('DE89370400440532013000');
    expect(box.seal('DE89370400440532013000')).not.toBe(sealed);
    expect(() => createSecretBox(payoutDataKey('another secret of 32 characters!')).open(sealed)).toThrow();
    const [v, iv, tag, body] = sealed.split('.');
    // Another first character, whatever the random IV made it (a fixed 'A' was no change 1 time in 64).
    const tampered = `${body!.startsWith('A') ? 'B' : 'A'}${body!.slice(1)}`;
    expect(() => box.open([v, iv, tag, tampered].join('.'))).toThrow();
  });
});

describe('bank status reports', () => {
  it('reads a CSV of end-to-end id, status and reason, listing unreadable lines', () => {
    const report = parseBankStatus(
      [`end_to_end_id,status,reason`, `${compactId(ids[0]!)},ACSC,`, `${compactId(ids[1]!)},RJCT,"AC04 closed account"`, `${compactId(ids[2]!)},PDNG,`, 'nonsense,ACSC,', `${compactId(ids[2]!)},WHAT,`].join('\n'),
    );
    expect(report.lines).toEqual([
      { payoutId: ids[0], outcome: 'paid', reason: null },
      { payoutId: ids[1], outcome: 'failed', reason: 'AC04 closed account' },
    ]);
    expect(report.problems.map((p) => p.at)).toEqual(['line 5', 'line 6']);
  });

  it('reads a pain.002 status report', () => {
    const xml = `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
      <OrgnlPmtInfAndSts><TxInfAndSts><OrgnlEndToEndId>${compactId(ids[0]!)}</OrgnlEndToEndId><TxSts>ACCC</TxSts></TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>${compactId(ids[1]!)}</OrgnlEndToEndId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC01</Cd></Rsn><AddtlInf>Incorrect account number</AddtlInf></StsRsnInf></TxInfAndSts>
      </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>`;
    expect(parseBankStatus(xml)).toEqual({
      lines: [
        { payoutId: ids[0], outcome: 'paid', reason: null },
        { payoutId: ids[1], outcome: 'failed', reason: 'AC01: Incorrect account number' },
      ],
      problems: [],
    });
  });
});
