import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, on its own registry (several gateways run in one test process). */
export function createRealtimeMetrics(read: { sockets: () => number; rooms: () => number }) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'realtime' });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({ name: 'streamhub_realtime_sockets', help: 'Open WebSockets.', registers, collect() { this.set(read.sockets()); } });
  new Gauge({ name: 'streamhub_realtime_rooms', help: 'Streams with viewers on this gateway.', registers, collect() { this.set(read.rooms()); } });
  return {
    registry,
    chatMessages: new Counter({
      name: 'streamhub_realtime_chat_messages_total',
      help: 'Chat messages received from clients, by outcome (stored, or the refusal code).',
      labelNames: ['outcome'],
      registers,
    }),
    framesSent: new Counter({ name: 'streamhub_realtime_frames_sent_total', help: 'Frames written to sockets.', registers }),
    refusedConnections: new Counter({
      name: 'streamhub_realtime_refused_connections_total',
      help: 'WebSocket upgrades refused, by reason (origin, address_limit).',
      labelNames: ['reason'],
      registers,
    }),
    framesOverBudget: new Counter({ name: 'streamhub_realtime_frames_over_budget_total', help: 'Sockets closed for sending more frames than their budget.', registers }),
    signOuts: new Counter({
      name: 'streamhub_realtime_sign_outs_total',
      help: 'Sockets signed out (kept open as anonymous viewers), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    slowConsumers: new Counter({ name: 'streamhub_realtime_slow_consumers_total', help: 'Sockets cut off for falling too far behind.', registers }),
    chatArchived: new Counter({ name: 'streamhub_realtime_chat_archived_total', help: 'Chat events written to the Mongo archive.', registers }),
    chatDeliveryLag: new Histogram({
      name: 'streamhub_realtime_chat_delivery_lag_seconds',
      help: 'From a message being accepted by a gateway to this gateway fanning it out.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
  };
}

export type RealtimeMetrics = ReturnType<typeof createRealtimeMetrics>;
