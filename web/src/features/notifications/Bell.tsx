// The header's bell: the unread count, lit by `notification` frames as they arrive.
import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useRealtimeFrames } from '../../realtime/use-realtime.ts';
import { useUnread } from './api.ts';
import '../../live.css';

export function NotificationBell() {
  const client = useQueryClient();
  const unread = useUnread(true);
  useRealtimeFrames((frame) => {
    if (frame.type === 'notification') void client.invalidateQueries({ queryKey: ['notifications'] });
  });
  const count = unread.data?.unreadCount ?? 0;
  return (
    <Link to="/notifications" className="bell" aria-label={count ? `Notifications, ${count} unread` : 'Notifications'} data-unread={count}>
      <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" style={{ verticalAlign: '-3px' }}>
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      {count > 0 && (
        <span className="bell-count" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}
