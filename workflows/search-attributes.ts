import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes an operator filters by in the Temporal UI (registered by the
// stack). Defined here because workflow code sets them and may import only deterministic code.

export const searchAttributes = {
  StreamId: defineSearchAttributeKey('StreamId', SearchAttributeType.KEYWORD),
  VideoId: defineSearchAttributeKey('VideoId', SearchAttributeType.KEYWORD),
  CreatorId: defineSearchAttributeKey('CreatorId', SearchAttributeType.KEYWORD),
  Phase: defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD),
  /** What a moderation case is about: `<targetType>:<targetId>`. */
  TargetId: defineSearchAttributeKey('TargetId', SearchAttributeType.KEYWORD),
} as const;
