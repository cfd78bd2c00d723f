// The dashboard's channel moderation (README "Channel moderation"): the owner appoints and
// removes channel moderators, times out or bans people from the channel's chat, lifts what is
// in force, and reads the channel's log (newest first, keyset pages).
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, unwrap } from '../../api/client.ts';
import { ErrorMessage, Loading } from '../../layout/Status.tsx';

const channelKey = (id: string) => ['channel-moderation', id];

/** A username to its user id (the API's profile route takes either). */
const userIdOf = async (username: string) => (await unwrap(api.GET('/api/v1/users/{id}', { params: { path: { id: username.replace(/^@/, '') } } }))).id;

function useChannelMutation<T>(channelId: string, fn: (arg: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => client.invalidateQueries({ queryKey: channelKey(channelId) }) });
}

function Moderators({ channelId }: { channelId: string }) {
  const list = useQuery({ queryKey: [...channelKey(channelId), 'moderators'], queryFn: () => unwrap(api.GET('/api/v1/users/{id}/channel/moderators', { params: { path: { id: channelId } } })) });
  const add = useChannelMutation(channelId, async (username: string) =>
    unwrap(api.PUT('/api/v1/users/{id}/channel/moderators/{userId}', { params: { path: { id: channelId, userId: await userIdOf(username) } } })),
  );
  const remove = useChannelMutation(channelId, (userId: string) => unwrap(api.DELETE('/api/v1/users/{id}/channel/moderators/{userId}', { params: { path: { id: channelId, userId } } })));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const username = String(new FormData(form).get('username') ?? '').trim();
    if (username) add.mutate(username, { onSuccess: () => form.reset() });
  };
  return (
    <>
      <h3>Channel moderators</h3>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorMessage error={list.error} />
      ) : list.data.length === 0 ? (
        <p className="muted">No channel moderators.</p>
      ) : (
        <ul className="plain" aria-label="Channel moderators">
          {list.data.map((m) => (
            <li key={m.userId} className="row">
              <span>@{m.username}</span>
              <button type="button" className="small danger" disabled={remove.isPending} onClick={() => remove.mutate(m.userId)} aria-label={`Remove moderator ${m.username}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {remove.isError && <ErrorMessage error={remove.error} />}
      <form onSubmit={submit} className="narrow">
        <label>
          Moderator’s username
          <input name="username" required autoComplete="off" />
        </label>
        {add.isError && <ErrorMessage error={add.error} />}
        <button type="submit" disabled={add.isPending}>
          Add moderator
        </button>
      </form>
    </>
  );
}

function Restrictions({ channelId }: { channelId: string }) {
  const list = useQuery({ queryKey: [...channelKey(channelId), 'restrictions'], queryFn: () => unwrap(api.GET('/api/v1/users/{id}/channel/restrictions', { params: { path: { id: channelId } } })) });
  const [type, setType] = useState<'timeout' | 'ban'>('timeout');
  const restrict = useChannelMutation(channelId, async (f: { username: string; minutes: number; reason: string }) =>
    unwrap(
      api.PUT('/api/v1/users/{id}/channel/restrictions/{userId}', {
        params: { path: { id: channelId, userId: await userIdOf(f.username) } },
        body: type === 'timeout' ? { type, durationSeconds: Math.round(f.minutes * 60), ...(f.reason ? { reason: f.reason } : {}) } : { type, ...(f.reason ? { reason: f.reason } : {}) },
      }),
    ),
  );
  const lift = useChannelMutation(channelId, (userId: string) => unwrap(api.DELETE('/api/v1/users/{id}/channel/restrictions/{userId}', { params: { path: { id: channelId, userId }, query: {} } })));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    restrict.mutate({ username: String(data.get('username') ?? '').trim(), minutes: Number(data.get('minutes') ?? 10), reason: String(data.get('reason') ?? '').trim() }, { onSuccess: () => form.reset() });
  };
  return (
    <>
      <h3>Timeouts and bans</h3>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorMessage error={list.error} />
      ) : list.data.length === 0 ? (
        <p className="muted">Nobody is timed out or banned.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">What</th>
              <th scope="col">Reason</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((r) => (
              <tr key={r.userId}>
                <td>@{r.username}</td>
                <td>{r.type === 'ban' ? 'Banned' : `Timed out until ${r.until ? new Date(r.until).toLocaleString() : '—'}`}</td>
                <td>{r.reason || '—'}</td>
                <td>
                  <button type="button" className="small secondary" disabled={lift.isPending} onClick={() => lift.mutate(r.userId)} aria-label={`Lift ${r.type} of ${r.username}`}>
                    Lift
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lift.isError && <ErrorMessage error={lift.error} />}
      <form onSubmit={submit} className="narrow">
        <label>
          Username to restrict
          <input name="username" required autoComplete="off" />
        </label>
        <label>
          Restriction
          <select value={type} onChange={(e) => setType(e.target.value as 'timeout' | 'ban')}>
            <option value="timeout">Time out</option>
            <option value="ban">Ban from the chat</option>
          </select>
        </label>
        {type === 'timeout' && (
          <label>
            Minutes
            <input name="minutes" type="number" min={1} max={20160} step={1} defaultValue={10} required />
          </label>
        )}
        <label>
          Reason shown to them (optional)
          <input name="reason" maxLength={500} />
        </label>
        {restrict.isError && <ErrorMessage error={restrict.error} />}
        <button type="submit" disabled={restrict.isPending}>
          {type === 'timeout' ? 'Time out' : 'Ban'}
        </button>
      </form>
    </>
  );
}

const logText: Record<string, string> = { moderator_added: 'made moderator', moderator_removed: 'removed as moderator', timeout: 'timed out', ban: 'banned', lift: 'lifted the restriction of' };

function Log({ channelId }: { channelId: string }) {
  const log = useInfiniteQuery({
    queryKey: [...channelKey(channelId), 'log'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => {
      const { data, error, response } = await api.GET('/api/v1/users/{id}/channel/log', { params: { path: { id: channelId }, query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } });
      if (!data) {
        const body = (error ?? {}) as { error?: { code?: string; message?: string } };
        throw new ApiError(response.status, body.error?.code ?? 'http_error', body.error?.message ?? `Request failed (${response.status})`);
      }
      return data;
    },
    getNextPageParam: (last) => last.meta.nextCursor ?? undefined,
  });
  const entries = log.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <h3>Moderation log</h3>
      {log.isPending ? (
        <Loading />
      ) : log.isError ? (
        <ErrorMessage error={log.error} />
      ) : entries.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="thread" aria-label="Moderation log">
          {entries.map((e) => (
            <li key={e.id}>
              @{e.actor.username} {logText[e.action] ?? e.action} @{e.target.username}
              {e.reason ? `: ${e.reason}` : ''} <span className="muted">{new Date(e.createdAt).toLocaleString()}</span>
            </li>
          ))}
        </ol>
      )}
      {log.hasNextPage && (
        <button type="button" className="secondary" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
          Load more
        </button>
      )}
    </>
  );
}

export function ChannelModeration({ channelId }: { channelId: string }) {
  return (
    <section aria-labelledby="channel-moderation-heading">
      <h2 id="channel-moderation-heading">Channel moderation</h2>
      <Moderators channelId={channelId} />
      <Restrictions channelId={channelId} />
      <Log channelId={channelId} />
    </section>
  );
}
