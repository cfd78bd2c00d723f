// /dashboard — a creator's streams and videos: create a stream (its key shown once, with the
// ingest URL and OBS settings), rotate the key (shown once again), live status, end a stream,
// chat settings and moderation, the creator's videos with their statuses, and channel
// moderation (channel moderators, timeouts and bans, the log).
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useCategories } from '../features/categories/api.ts';
import { ChatPanel } from '../features/chat/ChatPanel.tsx';
import { obsSettingsText, useChatSettings, useCreateStream, useDeleteChatMessage, useEndStream, useOwnStreams, useRotateKey, type LiveStream, type StreamKey } from '../features/live/api.ts';
import { ChannelModeration } from '../features/moderation/ChannelModeration.tsx';
import { useOwnVideos } from '../features/videos/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { useRealtimeFrames } from '../realtime/use-realtime.ts';
import { urls } from '../urls.ts';
import '../live.css';

const ON_AIR = ['live', 'reconnecting'];
const FINISHED = ['ended', 'cancelled'];

function CopyButton({ text, what }: { text: string; what: string }) {
  const [done, setDone] = useState<string>();
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setDone('Copied'),
      () => setDone('Copy failed: select the text and copy it'),
    );
  return (
    <>
      <button type="button" className="small secondary" onClick={() => void copy()}>
        Copy {what}
      </button>
      <span role="status" className="muted">
        {done}
      </span>
    </>
  );
}

/** The key, once: after this panel is gone only its prefix is ever shown again. */
function KeyPanel({ streamKey, onDone }: { streamKey: StreamKey; onDone: () => void }) {
  const obs = obsSettingsText(streamKey);
  return (
    <section className="status-panel" aria-labelledby="key-heading">
      <h3 id="key-heading">Your stream key</h3>
      <p>
        <strong>Shown only now.</strong> Copy it into your encoder; if you lose it, rotate it for a new one.
      </p>
      <label>
        Ingest URL
        <input readOnly value={streamKey.ingestUrl} onFocus={(e) => e.target.select()} />
      </label>
      <div className="row">
        <CopyButton text={streamKey.ingestUrl} what="ingest URL" />
      </div>
      <label>
        Stream key
        <input readOnly value={streamKey.streamKey} onFocus={(e) => e.target.select()} />
      </label>
      <div className="row">
        <CopyButton text={streamKey.streamKey} what="stream key" />
      </div>
      <label>
        OBS settings
        <textarea readOnly rows={5} value={obs} className="secret" />
      </label>
      <div className="row">
        <CopyButton text={obs} what="OBS settings" />
        <button type="button" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </section>
  );
}

type ChatMode = LiveStream['chatMode'];

const chatModes: [ChatMode, string, string][] = [
  ['everyone', 'Everyone signed in', 'everyone signed in'],
  ['followers', 'Followers only', 'followers only'],
  ['subscribers', 'Subscribers only', 'subscribers only'],
];

function CreateStream({ onCreated }: { onCreated: (stream: LiveStream, key: StreamKey) => void }) {
  const create = useCreateStream();
  const categories = useCategories();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const categoryId = String(form.get('categoryId') ?? '');
    create.mutate(
      {
        title: String(form.get('title')),
        description: String(form.get('description') ?? ''),
        categoryId: categoryId || null,
        visibility: form.get('visibility') as 'public' | 'unlisted',
        chatMode: form.get('chatMode') as ChatMode,
        reconnectWindowSeconds: Number(form.get('reconnectWindowSeconds')),
      },
      {
        onSuccess: (created) => {
          onCreated(created, { streamKey: created.streamKey, ingestUrl: created.ingestUrl });
          (e.target as HTMLFormElement).reset();
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="narrow" aria-labelledby="create-heading">
      <h2 id="create-heading">Create a stream</h2>
      <label>
        Title
        <input name="title" required maxLength={140} />
      </label>
      <label>
        Description
        <textarea name="description" rows={2} maxLength={5000} />
      </label>
      <label>
        Category
        <select name="categoryId" defaultValue="">
          <option value="">None</option>
          {categories.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Visibility
        <select name="visibility" defaultValue="public">
          <option value="public">Public</option>
          <option value="unlisted">Unlisted (only people with the link)</option>
        </select>
      </label>
      <label>
        Reconnect window (seconds)
        <input name="reconnectWindowSeconds" type="number" min={0} max={1800} defaultValue={60} />
      </label>
      <p className="hint">How long the stream waits for your encoder to come back after a drop.</p>
      <label>
        Who can chat
        <select name="chatMode" defaultValue="everyone">
          {chatModes.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={create.isPending}>
        Create stream
      </button>
      {create.isError && <ErrorMessage error={create.error} />}
    </form>
  );
}

function ChatControls({ stream }: { stream: LiveStream }) {
  const save = useChatSettings(stream.id);
  const [slow, setSlow] = useState(String(stream.chatSlowModeSeconds));
  // The mode being saved shows as chosen at once; the stream read afresh takes over once it is saved (or refused).
  const [choosing, setChoosing] = useState<ChatMode>();
  const mode: ChatMode = choosing ?? stream.chatMode;
  const apply = (next: { mode?: ChatMode; slowModeSeconds?: number }) => {
    setChoosing(next.mode);
    save.mutate({ mode: next.mode ?? stream.chatMode, slowModeSeconds: next.slowModeSeconds ?? stream.chatSlowModeSeconds }, { onSettled: () => setChoosing(undefined) });
  };
  return (
    <fieldset>
      <legend>Chat settings</legend>
      <fieldset className="row">
        <legend>Who can chat</legend>
        {chatModes.map(([value, label]) => (
          <label key={value} className="inline">
            <input type="radio" name={`chat-mode-${stream.id}`} value={value} checked={mode === value} disabled={save.isPending} onChange={() => apply({ mode: value })} />
            {label}
          </label>
        ))}
      </fieldset>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          apply({ slowModeSeconds: Number(slow) });
        }}
      >
        <label className="inline">
          Slow mode (seconds between messages, 0 is off)
          <input type="number" min={0} max={600} value={slow} onChange={(e) => setSlow(e.target.value)} style={{ width: '6rem' }} />
        </label>
        <button type="submit" className="small" disabled={save.isPending}>
          Set slow mode
        </button>
      </form>
      <p className="muted" role="status">
        Now: {chatModes.find(([value]) => value === stream.chatMode)?.[2] ?? stream.chatMode}, {stream.chatSlowModeSeconds ? `slow mode ${stream.chatSlowModeSeconds} s` : 'no slow mode'}
      </p>
      {save.isError && <ErrorMessage error={save.error} />}
    </fieldset>
  );
}

function StreamRow({ stream }: { stream: LiveStream }) {
  const rotate = useRotateKey();
  const end = useEndStream();
  const remove = useDeleteChatMessage(stream.id);
  const [key, setKey] = useState<StreamKey>();
  const [moderating, setModerating] = useState(false);
  const onAir = ON_AIR.includes(stream.status);
  const finished = FINISHED.includes(stream.status);
  const headingId = `stream-${stream.id}`;
  return (
    <li className="dashboard-stream" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <a href={stream.webUrl}>{stream.title}</a>
      </h3>
      <p className="row">
        <span className={stream.status === 'live' ? 'badge live' : 'badge'} data-testid="dashboard-status">
          {stream.status}
        </span>
        {onAir && <span>{stream.viewers} watching</span>}
        <span className="muted">{stream.visibility}</span>
        {stream.streamKeyPrefix && <span className="muted">key {stream.streamKeyPrefix}…</span>}
        {stream.vodVideoId && <Link to={urls.video(stream.vodVideoId)}>Recording</Link>}
      </p>
      {key && <KeyPanel streamKey={key} onDone={() => setKey(undefined)} />}
      {!finished && (
        <div className="row">
          {!onAir && (
            <button type="button" className="secondary" disabled={rotate.isPending} onClick={() => rotate.mutate(stream.id, { onSuccess: setKey })}>
              Rotate key
            </button>
          )}
          <button
            type="button"
            className="danger"
            disabled={end.isPending}
            onClick={() => {
              if (confirm(`End “${stream.title}” now? Viewers are cut off and the recording is processed.`)) end.mutate(stream.id);
            }}
          >
            End stream
          </button>
          {onAir && (
            <button type="button" className="secondary" aria-expanded={moderating} onClick={() => setModerating(!moderating)}>
              {moderating ? 'Hide chat' : 'Moderate chat'}
            </button>
          )}
        </div>
      )}
      {rotate.isError && <ErrorMessage error={rotate.error} />}
      {end.isError && <ErrorMessage error={end.error} />}
      {!finished && <ChatControls stream={stream} />}
      {moderating && onAir && (
        <ChatPanel streamId={stream.id} chatMode={stream.chatMode} slowModeSeconds={stream.chatSlowModeSeconds} closed={false} onDelete={(id) => remove.mutate(id)} />
      )}
    </li>
  );
}

function OwnStreams({ ownerId }: { ownerId: string }) {
  const streams = useOwnStreams(ownerId);
  // A status change of any of ours (frames reach the rooms we are in) refreshes the list.
  useRealtimeFrames((frame) => {
    if (frame.type === 'stream_status') void streams.refetch();
  });
  if (streams.isPending) return <Loading />;
  if (streams.isError) return <ErrorMessage error={streams.error} />;
  if (!streams.data.length) return <p className="muted">No streams yet.</p>;
  return (
    <ul className="plain">
      {streams.data.map((s) => (
        <StreamRow key={s.id} stream={s} />
      ))}
    </ul>
  );
}

function OwnVideos({ ownerId }: { ownerId: string }) {
  const videos = useOwnVideos(ownerId);
  if (videos.isPending) return <Loading />;
  if (videos.isError) return <ErrorMessage error={videos.error} />;
  if (!videos.data.length) return <p className="muted">No videos yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Status</th>
          <th scope="col">Visibility</th>
        </tr>
      </thead>
      <tbody>
        {videos.data.map((v) => (
          <tr key={v.id}>
            <td>
              <Link to={urls.video(v.id)}>{v.title}</Link>
            </td>
            <td>
              {v.status}
              {v.status === 'processing' ? ` (${v.progress}%)` : ''}
            </td>
            <td>{v.visibility}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DashboardContent() {
  const me = useSession()!.user;
  const [created, setCreated] = useState<{ stream: LiveStream; key: StreamKey }>();
  return (
    <>
      <h1>Creator dashboard</h1>
      <p>
        <Link to={urls.analytics()}>Analytics</Link> · <Link to={urls.earnings()}>Earnings and payouts</Link> · <Link to={urls.subscribers()}>Subscribers</Link> · <Link to={urls.blockedTerms()}>Blocked terms</Link>
      </p>
      {created ? (
        <section aria-labelledby="created-heading">
          <h2 id="created-heading">Stream created: {created.stream.title}</h2>
          <p>
            Watch page: <a href={created.stream.webUrl}>{created.stream.webUrl}</a>
          </p>
          <KeyPanel streamKey={created.key} onDone={() => setCreated(undefined)} />
        </section>
      ) : (
        <CreateStream onCreated={(stream, key) => setCreated({ stream, key })} />
      )}
      <h2>Your streams</h2>
      <OwnStreams ownerId={me.id} />
      <h2>Your videos</h2>
      <p>
        <Link to={urls.upload()}>Upload a video</Link>
      </p>
      <OwnVideos ownerId={me.id} />
      <ChannelModeration channelId={me.id} />
    </>
  );
}

export default function Dashboard() {
  return (
    <RequireSignIn>
      <DashboardContent />
    </RequireSignIn>
  );
}
