// "Report" and its dialog: a reason from the API's list, details, and for a video the moment
// it shows. The API's answer is said in the dialog: filed, already filed, or why not (your
// own content, too many reports this hour).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import { reportReasons, useReport, type ReportReason, type TargetType } from './api.ts';

export interface ReportButtonProps {
  targetType: TargetType;
  targetId: string;
  /** What is reported, for the button's and the dialog's names ("video Test pattern"). */
  what: string;
  /** Smaller button (chat messages). */
  small?: boolean;
  /** The video's current playback time, read when the dialog opens. */
  currentTime?: () => number | undefined;
}

function refusal(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.status === 429) return 'You have sent too many reports in the last hour. Try again later.';
  return undefined;
}

export function ReportButton({ targetType, targetId, what, small, currentTime }: ReportButtonProps) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className={small ? 'small secondary' : 'secondary'} onClick={() => setOpen(true)} aria-label={small ? `Report ${what}` : undefined}>
        Report
      </button>
      {open && <ReportDialog targetType={targetType} targetId={targetId} what={what} start={currentTime?.()} onClose={() => setOpen(false)} />}
    </>
  );
}

function ReportDialog({ targetType, targetId, what, start, onClose }: { targetType: TargetType; targetId: string; what: string; start: number | undefined; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const report = useReport();
  const [reason, setReason] = useState<ReportReason | ''>('');
  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
  }, []);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const details = String(form.get('details') ?? '').trim();
    const at = String(form.get('timestamp') ?? '').trim();
    if (!reason) return;
    report.mutate({ targetType, targetId, reason, ...(details ? { details } : {}), ...(targetType === 'video' && at !== '' ? { timestampSeconds: Number(at) } : {}) });
  };

  return (
    <dialog ref={dialog} className="report-dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>Report {what}</h2>
      {report.isSuccess ? (
        <>
          <p role="status" className="success">
            {report.data.duplicate ? 'You already reported this; your report stands.' : 'Thank you. Your report was sent to the moderators.'}
          </p>
          <button type="button" onClick={() => dialog.current?.close()}>
            Close
          </button>
        </>
      ) : (
        <form onSubmit={submit}>
          <label>
            Reason
            <select name="reason" required value={reason} onChange={(e) => setReason(e.target.value as ReportReason)}>
              <option value="">Choose a reason</option>
              {reportReasons.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Details (optional)
            <textarea name="details" rows={3} maxLength={2000} />
          </label>
          {targetType === 'video' && (
            <label>
              Where in the video (seconds, optional)
              <input name="timestamp" type="number" min={0} max={86400} step={1} defaultValue={start !== undefined ? Math.floor(start) : ''} />
            </label>
          )}
          {report.isError && (refusal(report.error) ? <p className="error" role="alert">{refusal(report.error)}</p> : <ErrorMessage error={report.error} />)}
          <div className="row">
            <button type="submit" disabled={report.isPending}>
              Send report
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
