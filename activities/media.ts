import { readMediaToolchain, type MediaToolchain } from '../lib/ffmpeg.ts';

/** Activities for the `media` task queue: everything that runs FFmpeg. */
export function createMediaActivities() {
  return {
    async reportMediaToolchain(): Promise<MediaToolchain> {
      return readMediaToolchain();
    },
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
