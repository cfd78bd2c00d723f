// /moderation — the moderators' queue: most urgent first, then oldest; filtered by status,
// priority and target type; keyset pages ("Load more"). Moderators and admins only.
import { useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { caseStatuses, isStaff, priorities, targetLabel, targetTypes, useQueue, type QueueFilters } from '../features/moderation/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function Queue() {
  const [filters, setFilters] = useState<QueueFilters>({});
  const queue = useQueue(filters);
  const set = (key: keyof QueueFilters, value: string) => setFilters((f) => ({ ...f, [key]: value || undefined }));
  const cases = queue.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <form className="filters" aria-label="Filter cases" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filters.status ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">Not closed</option>
            {caseStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select value={filters.priority ?? ''} onChange={(e) => set('priority', e.target.value)}>
            <option value="">Any</option>
            {priorities.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Target
          <select value={filters.targetType ?? ''} onChange={(e) => set('targetType', e.target.value)}>
            <option value="">Any</option>
            {targetTypes.map(([t, label]) => (
              <option key={t} value={t}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </form>
      {queue.isPending ? (
        <Loading />
      ) : queue.isError ? (
        <ErrorMessage error={queue.error} />
      ) : cases.length === 0 ? (
        <p className="muted">No cases.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Priority</th>
              <th scope="col">Status</th>
              <th scope="col">Reports</th>
              <th scope="col">Opened</th>
            </tr>
          </thead>
          <tbody>
            {cases.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={urls.moderationCase(c.id)}>
                    {targetLabel(c.targetType)} <span className="muted">{c.id}</span>
                  </Link>
                </td>
                <td>{c.priority}</td>
                <td>{c.status}</td>
                <td>{c.reportCount}</td>
                <td>{new Date(c.createdAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {queue.hasNextPage && (
        <button type="button" className="secondary" disabled={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()}>
          Load more
        </button>
      )}
      {queue.isFetchNextPageError && <ErrorMessage error={queue.error} />}
    </>
  );
}

export default function ModerationQueue() {
  const role = useSession()?.user.role;
  return (
    <RequireSignIn>
      <h1>Moderation queue</h1>
      {isStaff(role) ? <Queue /> : <p className="error">Only moderators and administrators review cases.</p>}
    </RequireSignIn>
  );
}
