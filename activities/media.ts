import { readMediaToolchain, type MediaToolchain } from '../lib/ffmpeg.ts';

/** Activities for the `media` task queue: everything that runs FFmpeg. */
export function createMediaActivities() {
  // The binaries do not change under a running worker; asking once keeps probes cheap.
  let toolchain: Promise<MediaToolchain> | undefined;
  return {
    async reportMediaToolchain(): Promise<MediaToolchain> {
      toolchain ??= readMediaToolchain().catch((err) => {
        toolchain = undefined;
        throw err;
      });
      return toolchain;
    },
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
