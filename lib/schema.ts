import type { ColumnType, Generated, Selectable } from 'kysely';

// Table types for Kysely. Migrations are frozen in time and do not import this file;
// this file follows the newest migration.

export interface SystemPingsTable {
  id: string;
  workflow_id: string;
  created_at: Generated<Date>;
}

export type UserRole = 'viewer' | 'creator' | 'moderator' | 'admin' | 'finance';
export type UserStatus = 'active' | 'suspended' | 'banned';

export interface UsersTable {
  id: Generated<string>;
  email: string;
  username: string;
  password_hash: string;
  display_name: string;
  bio: Generated<string>;
  avatar_url: string | null;
  role: Generated<UserRole>;
  status: Generated<UserStatus>;
  suspended_until: Date | null;
  follower_count: Generated<number>;
  following_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
}

export interface AuthSessionsTable {
  id: string;
  user_id: string;
  created_at: Generated<Date>;
  last_used_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Generated<Date>;
  rotated_at: Date | null;
}

export interface RevokedAccessTokensTable {
  jti: string;
  expires_at: Date;
}

export interface FollowsTable {
  follower_id: string;
  followee_id: string;
  notify: Generated<boolean>;
  created_at: Generated<Date>;
}

/** One user's like of one video; the video's `like_count` counts these rows. */
export interface VideoLikesTable {
  video_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

/** One user's like of one stream; the stream's `like_count` counts these rows. */
export interface StreamLikesTable {
  stream_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

export interface CategoriesTable {
  id: Generated<string>;
  name: string;
  slug: string;
  description: Generated<string>;
  image_url: string | null;
  tags: Generated<string[]>;
  is_active: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RateLimitsTable {
  key: string;
  window_start: Date;
  hits: number;
}

export const notificationTypes = [
  'stream_live',
  'stream_scheduled',
  'video_published',
  'new_follower',
  'tip_received',
  'payout_processed',
  'moderation_decision',
  'report_outcome',
  'moderation_escalation',
  'appeal_outcome',
  'appeal_message',
] as const;
export type NotificationType = (typeof notificationTypes)[number];
/** A statement of reasons, a report's outcome or an escalation is owed, not optional: no setting turns these off. */
export const mandatoryNotificationTypes: readonly NotificationType[] = ['moderation_decision', 'report_outcome', 'moderation_escalation', 'appeal_outcome', 'appeal_message'];
export const configurableNotificationTypes = notificationTypes.filter((t) => !mandatoryNotificationTypes.includes(t));

export interface NotificationsTable {
  id: Generated<string>;
  event_id: string;
  recipient_id: string;
  type: NotificationType;
  actor_id: string | null;
  entity_type: string;
  entity_id: string;
  payload: Generated<Record<string, unknown>>;
  read_at: Date | null;
  created_at: Generated<Date>;
}

export interface NotificationSettingsTable {
  user_id: string;
  type: NotificationType;
  in_app: boolean;
  updated_at: Generated<Date>;
}

export type VideoVisibility = 'public' | 'unlisted' | 'private';
export type VideoSource = 'upload' | 'recording';
export type VideoStatus = 'uploading' | 'processing' | 'ready' | 'failed';

/** One playable rendition of a ready video, as stored and as clients see it. */
export interface VideoRenditionRecord {
  name: string;
  width: number | null;
  height: number | null;
  fps: number | null;
  bandwidthKbps: number;
  /** Variant playlist relative to the master playlist, e.g. "720p/index.m3u8". */
  playlist: string;
}

export interface VideosTable {
  id: Generated<string>;
  owner_id: string;
  title: string;
  description: Generated<string>;
  visibility: Generated<VideoVisibility>;
  source: VideoSource;
  /** S3 key without the deployment's key prefix. */
  source_key: string;
  source_size_bytes: number | null;
  status: Generated<VideoStatus>;
  progress: Generated<number>;
  failure_reason: string | null;
  transcode_attempts: Generated<number>;
  duration_seconds: number | null;
  width: number | null;
  height: number | null;
  renditions: Generated<VideoRenditionRecord[]>;
  master_playlist_key: string | null;
  poster_key: string | null;
  storyboard_key: string | null;
  idempotency_key: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  ready_at: Date | null;
  deleted_at: Date | null;
  /** Hidden by a moderation decision (reversible by appeal). */
  moderation_hidden_at: Date | null;
  /** Age-restricted by moderation (decision or interim measure): no playback for anonymous viewers. */
  age_restricted_at: Generated<Date | null>;
  /** Rows in video_likes for this video, kept in the transaction that adds or removes one. */
  like_count: Generated<number>;
  /** Free tags, at most 20 (the table refuses more); PATCH /videos/{id} normalizes them. */
  tags: Generated<string[]>;
  category_id: string | null;
  /** Counted views (one per viewer per video per window) as of the last rollup; pending ones are in video_views. */
  view_count: Generated<number>;
}

/** When a view of this video by this viewer (`u:<user id>`, `d:<device id>`, `a:<address>`) last counted. */
export interface VideoViewersTable {
  video_id: string;
  viewer: string;
  last_counted_at: Date;
}

/** One counted view; `rolled_up` once the rollup has added it to `videos.view_count`. */
export interface VideoViewsTable {
  id: Generated<number>;
  video_id: string;
  viewer: string;
  viewed_at: Date;
  rolled_up: Generated<boolean>;
}

/** A signed-in viewer's last position in a video: their history and where they resume. */
export interface WatchHistoryTable {
  user_id: string;
  video_id: string;
  position_seconds: number;
  watched_at: Generated<Date>;
}

export type StreamStatus = 'idle' | 'scheduled' | 'live' | 'reconnecting' | 'ended' | 'cancelled';

export interface StreamsTable {
  id: Generated<string>;
  owner_id: string;
  title: string;
  description: Generated<string>;
  category_id: string | null;
  visibility: Generated<'public' | 'unlisted'>;
  mature: Generated<boolean>;
  chat_mode: Generated<'everyone' | 'followers'>;
  chat_slow_mode_seconds: Generated<number>;
  scheduled_at: Date | null;
  status: StreamStatus;
  reconnect_window_seconds: Generated<number>;
  stream_key_hash: string;
  stream_key_prefix: string;
  started_at: Date | null;
  ended_at: Date | null;
  current_viewers: Generated<number>;
  peak_viewers: Generated<number>;
  unique_viewers: Generated<number>;
  vod_video_id: string | null;
  /** Set when a moderation decision ended the broadcast. */
  moderation_ended_at: Date | null;
  /** Age-restricted by moderation (decision or interim measure): no playback URL for anonymous viewers. */
  age_restricted_at: Generated<Date | null>;
  /** Rows in stream_likes for this stream, kept in the transaction that adds or removes one. */
  like_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface StreamSessionsTable {
  id: Generated<string>;
  stream_id: string;
  client_id: string;
  client_addr: string | null;
  started_at: Generated<Date>;
  ended_at: Date | null;
  end_reason: string | null;
}

export interface StreamViewersTable {
  stream_id: string;
  viewer_key: string;
  first_seen_at: Generated<Date>;
}

// Ledger amounts are bigint minor units; lib/ledger reads them as text into JS bigint so no
// float ever holds money (the global int8 parser would give a number).
export interface LedgerAccountsTable {
  id: Generated<string>;
  code: string;
  kind: string;
  owner_id: string | null;
  currency: string;
  normal_side: 'debit' | 'credit';
  debits_must_not_exceed_credits: Generated<boolean>;
  credits_must_not_exceed_debits: Generated<boolean>;
  debits_posted: ColumnType<number, never, never>;
  credits_posted: ColumnType<number, never, never>;
  sharded: Generated<boolean>;
  created_at: Generated<Date>;
}

/** Running totals of sharded (platform) accounts, one row per shard; summed on read. */
export interface LedgerAccountShardsTable {
  account_id: string;
  shard: number;
  debits_posted: ColumnType<number, never, never>;
  credits_posted: ColumnType<number, never, never>;
}

export interface LedgerEntriesTable {
  id: Generated<string>;
  idempotency_key: string;
  kind: string;
  description: Generated<string>;
  refs: ColumnType<Record<string, string>, string, never>;
  fingerprint: string;
  reverses: string | null;
  effective_at: Generated<Date>;
  created_at: Generated<Date>;
}

export interface LedgerPostingsTable {
  id: ColumnType<string, never, never>;
  entry_id: string;
  account_id: string;
  currency: string;
  side: 'debit' | 'credit';
  amount: ColumnType<number, string, never>;
  balance_after: ColumnType<number | null, never, never>;
  created_at: Generated<Date>;
}

export type PaymentProvider = 'stripe';

export interface PaymentEventsTable {
  provider: PaymentProvider;
  event_id: string;
  type: string;
  /** The verified event as the provider sent it. */
  payload: unknown;
  livemode: boolean;
  provider_created_at: Date;
  received_at: Generated<Date>;
  applied_at: Date | null;
  /** When the event started waiting for its payment to be known (it names provider ids we have not stored yet). */
  parked_at: Date | null;
  waiting_for_charge_id: string | null;
  waiting_for_payment_intent_id: string | null;
}

export type PayoutMethodKind = 'stripe' | 'bank_transfer';
export type PayoutMethodStatus = 'pending' | 'verified' | 'disabled';

export interface PayoutMethodsTable {
  user_id: string;
  kind: PayoutMethodKind;
  status: PayoutMethodStatus;
  stripe_account_id: string | null;
  account_holder: string | null;
  /** Sealed with the payout data key (lib/payouts/secret-box.ts); never sent to a client. */
  iban_sealed: string | null;
  iban_masked: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

// Coin amounts are bigint, read as text into JS bigint like the ledger's (the int8 parser gives a number).
export interface GiftsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  coins: ColumnType<number, string, string>;
  image_url: string | null;
  active: Generated<boolean>;
  sort_order: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

// Money columns are bigint, read as text into JS bigint (lib/money/payments.ts), like the ledger's.
export interface CoinPacksTable {
  id: Generated<string>;
  slug: string;
  coins: ColumnType<number, string, string>;
  price_minor: ColumnType<number, string, string>;
  currency: string;
  active: Generated<boolean>;
  sort: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PayoutHoldsTable {
  id: Generated<string>;
  user_id: string;
  reason: string;
  set_by: string | null;
  created_at: Generated<Date>;
  lifted_at: Date | null;
  lifted_by: string | null;
  /** `admin` (the finance API) or `case:<caseId>` (a moderation decision): one active hold per creator and source. */
  source: Generated<string>;
}

export const payoutRunStatuses = ['selecting', 'awaiting_approval', 'executing', 'settling', 'completed', 'expired', 'cancelled'] as const;
export type PayoutRunStatus = (typeof payoutRunStatuses)[number];

// Amounts are bigint minor units, read as text (see the ledger tables).
export interface PayoutRunsTable {
  id: string;
  currency: string;
  minimum_amount: ColumnType<string, string, never>;
  status: PayoutRunStatus;
  started_by: string;
  approved_by: string | null;
  approved_at: Date | null;
  cancelled_by: string | null;
  approval_deadline: Date | null;
  bank_file_key: string | null;
  report_key: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Date | null;
}

export const payoutItemStatuses = ['reserved', 'released', 'submitted', 'reversing', 'paid', 'failed', 'returned'] as const;
export type PayoutItemStatus = (typeof payoutItemStatuses)[number];

export interface PayoutItemsTable {
  id: Generated<string>;
  run_id: string;
  user_id: string;
  currency: string;
  amount: ColumnType<string, string, never>;
  method: PayoutMethodKind;
  status: PayoutItemStatus;
  failure_reason: string | null;
  stripe_account_id: string | null;
  account_holder: string | null;
  iban_sealed: string | null;
  iban_masked: string | null;
  stripe_transfer_id: string | null;
  stripe_payout_id: string | null;
  reserve_entry_id: string;
  settle_entry_id: string | null;
  settled_by: string | null;
  flagged_at: Date | null;
  /** Stripe reported the payout failed after it had reported it paid (only then may finance book a return). */
  stripe_failed_after_paid_at: Date | null;
  created_at: Generated<Date>;
  submitted_at: Date | null;
  settled_at: Date | null;
  /** A paid payout the bank returned: the compensating entry (migration 014). */
  return_entry_id: Generated<string | null>;
  returned_at: Generated<Date | null>;
}

/** A Stripe payout event that named an item paid with another payout or account: never applied (migration 014). */
export interface PayoutEventMismatchesTable {
  provider: PaymentProvider;
  event_id: string;
  event_type: string;
  item_id: string | null;
  run_id: string | null;
  event_payout_id: string | null;
  event_account_id: string | null;
  stored_payout_id: string | null;
  stored_account_id: string | null;
  reason: string;
  created_at: Generated<Date>;
}

export interface GiftSendsTable {
  id: string;
  sender_id: string;
  stream_id: string;
  creator_id: string;
  gift_id: string;
  quantity: number;
  coins: ColumnType<number, string, never>;
  idempotency_key: string;
  request_fingerprint: string;
  entry_id: string;
  created_at: Generated<Date>;
}

export interface StreamGiftTotalsTable {
  stream_id: string;
  sender_id: string;
  coins: ColumnType<number, string, string>;
  gifts: number;
  reached_at: Date;
}

export type PaymentKind = 'tip' | 'coin_purchase';
export type PaymentStatus = 'requires_payment' | 'succeeded' | 'failed' | 'refunded' | 'partially_refunded' | 'disputed';

export interface PaymentsTable {
  id: string;
  kind: PaymentKind;
  payer_id: string;
  creator_id: string | null;
  stream_id: string | null;
  video_id: string | null;
  coin_pack_id: string | null;
  coins: ColumnType<number | null, string | null, string | null>;
  amount: ColumnType<number, string, never>;
  currency: string;
  message: string | null;
  anonymous: Generated<boolean>;
  status: Generated<PaymentStatus>;
  provider: Generated<PaymentProvider>;
  provider_payment_intent_id: string | null;
  provider_client_secret: string | null;
  provider_charge_id: string | null;
  idempotency_key: string;
  request_fingerprint: string;
  failure_reason: string | null;
  booking_refused: Generated<boolean>;
  succeeded_entry_id: string | null;
  booked_share: ColumnType<number | null, string | null, string | null>;
  booked_coin_value: ColumnType<number | null, string | null, string | null>;
  refunded_amount: ColumnType<number, string | undefined, string>;
  reversed_amount: ColumnType<number, string | undefined, string>;
  reversed_share: ColumnType<number, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  succeeded_at: Date | null;
  /** When a PaymentIntent was first asked for (Stripe keeps our idempotency key for 24 hours from then). */
  intent_requested_at: Date | null;
}

export type DisputeStatus = 'inquiry' | 'inquiry_closed' | 'open' | 'won' | 'lost';

export interface PaymentDisputesTable {
  payment_id: string;
  provider_dispute_id: string;
  status: DisputeStatus;
  amount: ColumnType<number, string, string>;
  fee: ColumnType<number, string, string>;
  covered_amount: ColumnType<number, string | undefined, string>;
  covered_share: ColumnType<number, string | undefined, string>;
  entry_id: string | null;
  reversal_entry_id: string | null;
  reason: string | null;
  created_at: Generated<Date>;
  closed_at: Date | null;
}

export interface ModerationCasesTable {
  id: string;
  target_type: 'stream' | 'video' | 'chat_message' | 'user';
  target_id: string;
  sequence: number;
  target_owner_id: string | null;
  status: Generated<'open' | 'claimed' | 'decided' | 'appealed' | 'closed'>;
  priority: 'urgent' | 'high' | 'normal';
  priority_rank: number;
  report_count: Generated<number>;
  snapshot: Generated<Record<string, unknown>>;
  claimed_by: string | null;
  claim_expires_at: Date | null;
  decision: Record<string, unknown> | null;
  decided_by: string | null;
  decided_at: Date | null;
  sla_due_at: Date | null;
  escalations: Generated<number>;
  signal_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  closed_at: Date | null;
}

/** The outbox of automatic signals: a row waits (`delivered_at` null) until its case workflow has it. */
export interface ModerationSignalsTable {
  id: ColumnType<string, never, never>;
  case_id: string;
  source: string;
  reason: string;
  score: number;
  detail: Generated<Record<string, unknown>>;
  live_target: Generated<boolean>;
  created_at: Generated<Date>;
  delivered_at: Date | null;
}

export interface ReportsTable {
  id: Generated<string>;
  case_id: string;
  reporter_id: string;
  reason: string;
  details: Generated<string>;
  timestamp_seconds: number | null;
  created_at: Generated<Date>;
}

/** Append-only (triggers refuse UPDATE, DELETE, TRUNCATE). */
export interface ModerationAuditTable {
  id: ColumnType<string, never, never>;
  case_id: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  detail: ColumnType<Record<string, unknown>, string, never>;
  prior: ColumnType<Record<string, unknown> | null, string | null, never>;
  idempotency_key: string;
  created_at: Generated<Date>;
}

export interface StrikesTable {
  id: Generated<string>;
  user_id: string;
  case_id: string;
  rule: string;
  created_at: Generated<Date>;
  expires_at: Date;
  expired_at: Date | null;
  removed_at: Date | null;
}

export interface AppealsTable {
  id: Generated<string>;
  case_id: string;
  user_id: string;
  message: string;
  created_at: Generated<Date>;
  decided_by: string | null;
  decided_at: Date | null;
  upheld: boolean | null;
  note: string | null;
}

export interface AppealMessagesTable {
  id: Generated<string>;
  case_id: string;
  author_id: string;
  author_role: 'appellant' | 'moderator';
  body: string;
  idempotency_key: string | null;
  created_at: Generated<Date>;
}

export interface WatchedWordsTable {
  term: string;
  level: 'hold' | 'block';
  /** The policy reason a signal from this word carries, and its score (1–100). */
  reason: Generated<string>;
  score: Generated<number>;
  created_by: string | null;
  created_at: Generated<Date>;
}

export interface ChannelBlockedTermsTable {
  owner_id: string;
  term: string;
  created_at: Generated<Date>;
}

export interface ChannelModeratorsTable {
  owner_id: string;
  user_id: string;
  created_at: Generated<Date>;
}

export type ChannelModerationAction = 'moderator_added' | 'moderator_removed' | 'timeout' | 'ban' | 'lift';

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE. */
export interface ChannelModerationLogTable {
  id: Generated<string>;
  owner_id: string;
  target_id: string;
  target_name: string;
  actor_id: string;
  actor_name: string;
  action: ChannelModerationAction;
  reason: Generated<string>;
  duration_seconds: number | null;
  expires_at: Date | null;
  created_at: Generated<Date>;
}

export interface Database {
  system_pings: SystemPingsTable;
  users: UsersTable;
  auth_sessions: AuthSessionsTable;
  refresh_tokens: RefreshTokensTable;
  revoked_access_tokens: RevokedAccessTokensTable;
  follows: FollowsTable;
  categories: CategoriesTable;
  rate_limits: RateLimitsTable;
  notifications: NotificationsTable;
  notification_settings: NotificationSettingsTable;
  videos: VideosTable;
  streams: StreamsTable;
  stream_sessions: StreamSessionsTable;
  stream_viewers: StreamViewersTable;
  video_likes: VideoLikesTable;
  stream_likes: StreamLikesTable;
  video_viewers: VideoViewersTable;
  video_views: VideoViewsTable;
  watch_history: WatchHistoryTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_account_shards: LedgerAccountShardsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_postings: LedgerPostingsTable;
  payment_events: PaymentEventsTable;
  payout_methods: PayoutMethodsTable;
  payout_holds: PayoutHoldsTable;
  payout_runs: PayoutRunsTable;
  payout_items: PayoutItemsTable;
  payout_event_mismatches: PayoutEventMismatchesTable;
  gifts: GiftsTable;
  gift_sends: GiftSendsTable;
  stream_gift_totals: StreamGiftTotalsTable;
  coin_packs: CoinPacksTable;
  payments: PaymentsTable;
  payment_disputes: PaymentDisputesTable;
  moderation_cases: ModerationCasesTable;
  reports: ReportsTable;
  moderation_signals: ModerationSignalsTable;
  moderation_audit: ModerationAuditTable;
  strikes: StrikesTable;
  appeals: AppealsTable;
  appeal_messages: AppealMessagesTable;
  watched_words: WatchedWordsTable;
  channel_blocked_terms: ChannelBlockedTermsTable;
  channel_moderators: ChannelModeratorsTable;
  channel_moderation_log: ChannelModerationLogTable;
}

export type User = Selectable<UsersTable>;
export type Category = Selectable<CategoriesTable>;
export type Notification = Selectable<NotificationsTable>;
export type Video = Selectable<VideosTable>;
export type Stream = Selectable<StreamsTable>;
export type PaymentEventRow = Selectable<PaymentEventsTable>;
export type Gift = Selectable<GiftsTable>;
