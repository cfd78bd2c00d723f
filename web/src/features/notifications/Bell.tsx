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
      <span aria-hidden="true">🔔</span>
      {count > 0 && (
        <span className="bell-count" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}
