// /admin/watched-words — the platform's watched words: admins add a term (or change one's level,
// reason and score by saving it again) and remove it; moderators read the list. Terms are stored
// normalized and match whole words; gateways apply a change within 10 s.
import { useState, type FormEvent } from 'react';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { isStaff, reportReasons, type ReportReason } from '../features/moderation/api.ts';
import { fieldProblems, levelLabel, useRemoveWatchedWord, useSaveWatchedWord, useWatchedWords, watchLevels, type WatchLevel } from '../features/moderation/watched-words.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import '../live.css';

const reasonLabel = (reason: string) => reportReasons.find(([r]) => r === reason)?.[1] ?? reason;

function AddWord() {
  const save = useSaveWatchedWord();
  const [saved, setSaved] = useState<string>();
  const problems = fieldProblems(save.error);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    setSaved(undefined);
    save.mutate(
      { term: String(data.get('term')), level: data.get('level') as WatchLevel, reason: data.get('reason') as ReportReason, score: Number(data.get('score')) },
      {
        onSuccess: (word) => {
          setSaved(`Saved “${word.term}” (${levelLabel(word.level).toLowerCase()}).`);
          form.reset();
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="narrow" aria-labelledby="add-word-heading">
      <h2 id="add-word-heading">Add or change a term</h2>
      <label>
        Term
        <input name="term" required maxLength={100} aria-describedby="term-hint" />
      </label>
      <span id="term-hint" className="hint">
        Whole words only; case, accents and look-alikes (0 for o, @ for a) do not matter. Saving a term already listed changes it.
      </span>
      <label>
        Level
        <select name="level" defaultValue="hold">
          {watchLevels.map(([level, label]) => (
            <option key={level} value={level}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Policy reason of its cases
        <select name="reason" defaultValue="other">
          {reportReasons.map(([reason, label]) => (
            <option key={reason} value={reason}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Score (1–100)
        <input name="score" type="number" min={1} max={100} defaultValue={50} required aria-describedby="score-hint" />
      </label>
      <span id="score-hint" className="hint">
        From 50 a match counts as its reason toward a case's priority.
      </span>
      <button type="submit" disabled={save.isPending}>
        Save term
      </button>
      <p role="status">{saved}</p>
      {save.isError &&
        (problems.length ? (
          <p className="error" role="alert">
            Refused: {problems.map((p) => `${p.field}: ${p.message}`).join('; ')}
          </p>
        ) : (
          <ErrorMessage error={save.error} />
        ))}
    </form>
  );
}

function WordList({ canEdit }: { canEdit: boolean }) {
  const words = useWatchedWords();
  const remove = useRemoveWatchedWord();
  if (words.isPending) return <Loading />;
  if (words.isError) return <ErrorMessage error={words.error} />;
  if (!words.data.length) return <p className="muted">No watched words yet.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Term</th>
            <th scope="col">Level</th>
            <th scope="col">Reason</th>
            <th scope="col">Score</th>
            {canEdit && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {words.data.map((w) => (
            <tr key={w.term}>
              <td>{w.term}</td>
              <td>{levelLabel(w.level)}</td>
              <td>{reasonLabel(w.reason)}</td>
              <td>{w.score}</td>
              {canEdit && (
                <td>
                  <button type="button" className="small danger" disabled={remove.isPending} onClick={() => remove.mutate(w.term)} aria-label={`Remove ${w.term}`}>
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {remove.isError && <ErrorMessage error={remove.error} />}
    </>
  );
}

export default function AdminWatchedWords() {
  const role = useSession()?.user.role;
  return (
    <RequireSignIn>
      <h1>Watched words</h1>
      {!isStaff(role) ? (
        <p className="error">Only administrators and moderators see the watched words.</p>
      ) : (
        <>
          <p>
            A <strong>block</strong> term refuses a chat message, stream title or description, or video title or description; a <strong>hold</strong> term keeps a chat message from being published and opens a case, and lets a title through with a case. Channel owners and platform staff are exempt in their chats.
          </p>
          {role === 'admin' ? <AddWord /> : <p className="muted">Only administrators change the list.</p>}
          <h2>The list</h2>
          <WordList canEdit={role === 'admin'} />
        </>
      )}
    </RequireSignIn>
  );
}
