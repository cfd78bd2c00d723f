import { formatMinorUnits } from './money-format.ts';

// An ISO 20022 customer credit transfer initiation (pain.001.001.03, the version SEPA banks
// take) for the bank-transfer items of one payout run. Pure: the same run renders the same
// bytes, so a retried activity uploads an identical file.

export interface Pain001Debtor {
  name: string;
  iban: string;
  bic: string;
}

export interface Pain001Transfer {
  /** The payout item's id; in the file as its 32 hex digits (EndToEndId holds at most 35 characters). */
  payoutId: string;
  amount: bigint;
  creditorName: string;
  creditorIban: string;
  remittance: string;
}

export interface Pain001Input {
  runId: string;
  currency: string;
  /** When the message was created (the run's approval): fixed, so a re-render is identical. */
  createdAt: Date;
  /** The day the bank should execute the transfers (YYYY-MM-DD). */
  executionDate: string;
  debtor: Pain001Debtor;
  transfers: readonly Pain001Transfer[];
}

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03';

/** A uuid as the 32-hex-digit id the file carries (MsgId, PmtInfId, EndToEndId). */
export const compactId = (uuid: string): string => uuid.replace(/-/g, '').toLowerCase();

/** The payout id a bank's status report names, back from its compact form; undefined when it is not one. */
export function payoutIdFromEndToEndId(endToEndId: string): string | undefined {
  const hex = endToEndId.trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);

/** Banks' character set is narrow (SEPA: Latin letters, digits, a few signs): others become spaces, then cut to `max`. */
function text(value: string, max: number): string {
  const cleaned = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9/?:().,'+ -]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return escapeXml(cleaned.slice(0, max) || 'NOTPROVIDED');
}

/** Totals of a file: what its group header declares. */
export function pain001Totals(transfers: readonly Pain001Transfer[]): { count: number; controlSum: bigint } {
  return { count: transfers.length, controlSum: transfers.reduce((sum, t) => sum + t.amount, 0n) };
}

export function renderPain001(input: Pain001Input): string {
  if (input.transfers.length === 0) throw new RangeError('A pain.001 file needs at least one transfer');
  for (const t of input.transfers) if (t.amount <= 0n) throw new RangeError(`Transfer ${t.payoutId} has a non-positive amount`);
  const { count, controlSum } = pain001Totals(input.transfers);
  const amount = (minor: bigint) => formatMinorUnits(minor, input.currency);
  const createdAt = input.createdAt.toISOString().slice(0, 19);
  const messageId = compactId(input.runId);
  const sepa = input.currency === 'EUR';

  const transactions = input.transfers.map(
    (t) => `      <CdtTrfTxInf>
        <PmtId><EndToEndId>${compactId(t.payoutId)}</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="${input.currency}">${amount(t.amount)}</InstdAmt></Amt>
        <Cdtr><Nm>${text(t.creditorName, 70)}</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>${t.creditorIban}</IBAN></Id></CdtrAcct>
        <RmtInf><Ustrd>${text(t.remittance, 140)}</Ustrd></RmtInf>
      </CdtTrfTxInf>`,
  );

  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="${PAIN001_NAMESPACE}">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>${messageId}</MsgId>
      <CreDtTm>${createdAt}</CreDtTm>
      <NbOfTxs>${count}</NbOfTxs>
      <CtrlSum>${amount(controlSum)}</CtrlSum>
      <InitgPty><Nm>${text(input.debtor.name, 70)}</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>${messageId}</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>true</BtchBookg>
      <NbOfTxs>${count}</NbOfTxs>
      <CtrlSum>${amount(controlSum)}</CtrlSum>
${sepa ? '      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n' : ''}      <ReqdExctnDt>${input.executionDate}</ReqdExctnDt>
      <Dbtr><Nm>${text(input.debtor.name, 70)}</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>${input.debtor.iban}</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>${input.debtor.bic}</BIC></FinInstnId></DbtrAgt>
      <ChrgBr>SLEV</ChrgBr>
${transactions.join('\n')}
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`;
}
