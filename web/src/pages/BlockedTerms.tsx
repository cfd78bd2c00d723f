// /dashboard/blocked-terms — a creator's channel blocked terms: chat messages in their streams,
// and their own stream and video titles and descriptions, with one are refused. The list is
// replaced as a whole (one term per line, at most 500).
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { fieldProblems, MAX_CHANNEL_TERMS, useBlockedTerms, useSaveBlockedTerms } from '../features/moderation/watched-words.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';

const linesOf = (text: string) =>
  text
    .split('\n')
    .map((t) => t.trim())
    .filter(Boolean);

function TermsForm({ terms }: { terms: string[] }) {
  const save = useSaveBlockedTerms();
  const [text, setText] = useState(terms.join('\n'));
  const [sent, setSent] = useState<string[]>([]);
  const [saved, setSaved] = useState<string>();
  // `terms.3` names the fourth line sent.
  const problems = fieldProblems(save.error).map((p) => {
    const line = /^terms\.(\d+)$/.exec(p.field);
    return line ? `“${sent[Number(line[1])]}”: ${p.message}` : `${p.field}: ${p.message}`;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const lines = linesOf(text);
    setSent(lines);
    setSaved(undefined);
    save.mutate(lines, {
      onSuccess: (result) => {
        setText(result.terms.join('\n'));
        setSaved(`Saved: ${result.terms.length} ${result.terms.length === 1 ? 'term' : 'terms'}.`);
      },
    });
  };
  return (
    <form onSubmit={submit} className="narrow">
      <label>
        Blocked terms (one per line)
        <textarea rows={8} value={text} onChange={(e) => setText(e.target.value)} aria-describedby="terms-hint" />
      </label>
      <span id="terms-hint" className="hint">
        At most {MAX_CHANNEL_TERMS}. Whole words only; case, accents and look-alikes (0 for o, @ for a) do not matter, so the list shows each term as it is matched.
      </span>
      <button type="submit" disabled={save.isPending}>
        Save blocked terms
      </button>
      <p role="status">{saved}</p>
      {save.isError &&
        (problems.length ? (
          <p className="error" role="alert">
            Refused: {problems.join('; ')}
          </p>
        ) : (
          <ErrorMessage error={save.error} />
        ))}
    </form>
  );
}

function Terms() {
  const terms = useBlockedTerms();
  if (terms.isPending) return <Loading />;
  if (terms.isError) return <ErrorMessage error={terms.error} />;
  return <TermsForm terms={terms.data.terms} />;
}

export default function BlockedTerms() {
  return (
    <RequireSignIn>
      <h1>Blocked terms</h1>
      <p>
        Chat messages in your streams with one of these terms are refused, and so are your stream and video titles and descriptions. In your chat they do not apply to you or to platform staff; they do apply to your channel moderators. <Link to="/dashboard">Back to the dashboard</Link>
      </p>
      <Terms />
    </RequireSignIn>
  );
}
