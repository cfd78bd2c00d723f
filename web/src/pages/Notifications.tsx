// /notifications — newest first, mark one or all read, and which kinds to receive.
import { Link } from 'react-router';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { describeNotification, emailChannelLabels, settingLabels, useMarkRead, useNotifications, useNotificationSettings, useSaveSettings, type EmailChannel, type NotificationSettings } from '../features/notifications/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import '../live.css';

function Settings() {
  const settings = useNotificationSettings();
  const save = useSaveSettings();
  if (settings.isPending) return <Loading />;
  if (settings.isError) return <ErrorMessage error={settings.error} />;
  const types = Object.keys(settingLabels) as (keyof NotificationSettings)[];
  return (
    <>
      <fieldset>
        <legend>Notify me when</legend>
        {types.map((type) => (
          <label key={type} className="inline">
            <input type="checkbox" checked={settings.data[type]?.inApp ?? true} disabled={save.isPending} onChange={(e) => save.mutate({ [type]: { inApp: e.target.checked } })} />
            {settingLabels[type]}
          </label>
        ))}
      </fieldset>
      <fieldset className="email-settings">
        <legend>Email me when</legend>
        <p className="muted">
          Only to a confirmed email address, and only about notifications you get in the app. Notices about moderation always come by email too.
        </p>
        {types.map((type) => (
          <label key={type} className="email-setting">
            <span>{settingLabels[type]}</span>
            <select value={settings.data[type]?.email ?? 'off'} disabled={save.isPending} onChange={(e) => save.mutate({ [type]: { email: e.target.value as EmailChannel } })}>
              {(Object.keys(emailChannelLabels) as EmailChannel[]).map((channel) => (
                <option key={channel} value={channel}>
                  {emailChannelLabels[channel]}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      {save.isError && <ErrorMessage error={save.error} />}
    </>
  );
}

function List() {
  const list = useNotifications();
  const mark = useMarkRead();
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorMessage error={list.error} />;
  const { items, unreadCount } = list.data;
  return (
    <>
      <div className="row">
        <p className="muted">{unreadCount} unread</p>
        {unreadCount > 0 && (
          <button type="button" className="secondary" onClick={() => mark.mutate({ all: true })} disabled={mark.isPending}>
            Mark all read
          </button>
        )}
      </div>
      {items.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ul className="notifications">
          {items.map((n) => {
            const { text, href } = describeNotification(n);
            return (
              <li key={n.id} className={n.readAt ? '' : 'unread'}>
                <span>
                  {href ? <Link to={href} onClick={() => !n.readAt && mark.mutate({ ids: [n.id] })}>{text}</Link> : text}{' '}
                  <time className="muted" dateTime={n.createdAt}>
                    {new Date(n.createdAt).toLocaleString()}
                  </time>
                  {!n.readAt && <span className="visually-hidden"> (unread)</span>}
                </span>
                {!n.readAt && (
                  <button type="button" className="small secondary" onClick={() => mark.mutate({ ids: [n.id] })} aria-label={`Mark read: ${text}`}>
                    Mark read
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {mark.isError && <ErrorMessage error={mark.error} />}
    </>
  );
}

export default function Notifications() {
  return (
    <RequireSignIn>
      <h1>Notifications</h1>
      <List />
      <h2 id="settings">Settings</h2>
      <Settings />
    </RequireSignIn>
  );
}
