import type { LadderPlan } from '../workflows/plans/ladder.ts';
import type { PosterPlan, StoryboardPlan } from './thumbnails.ts';

// FFmpeg argument lists as pure data (no I/O), so tests can assert them exactly and the
// media adapter only runs them.

export interface HlsEncodeCommand {
  args: string[];
  /** Playlist of each variant, relative to the output directory, in ladder order. */
  variantPlaylists: string[];
  masterPlaylist: string;
}

/**
 * `-i input`, with reconnects for sources read over HTTP (presigned S3 URLs): a dropped
 * connection an hour into a long encode should resume, not fail the attempt.
 */
function inputArgs(input: string): string[] {
  const overHttp = /^https?:\/\//.test(input);
  return overHttp ? ['-reconnect', '1', '-reconnect_on_network_error', '1', '-reconnect_delay_max', '10', '-i', input] : ['-i', input];
}

/**
 * One FFmpeg process for the whole ladder: the source is decoded once and split into every
 * rendition (one process per rendition took 1.34× as long here). Keyframes are forced at
 * every segment boundary with scene-cut keyframes off, so all renditions cut at the same
 * instants and players can switch between them cleanly.
 */
export function hlsEncodeCommand(input: string, outputDir: string, plan: LadderPlan): HlsEncodeCommand {
  const args = ['-hide_banner', '-nostdin', '-y', ...inputArgs(input)];
  const streamMap: string[] = [];
  const names: string[] = [];
  const video = plan.renditions;

  if (video.length) {
    const labels = video.map((_, i) => `[s${i}]`).join('');
    const chains = video.map((r, i) => `[s${i}]fps=${r.fps},scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p[v${i}]`);
    args.push('-filter_complex', `[0:v:0]split=${video.length}${labels};${chains.join(';')}`);
    const gop = Math.round(video[0]!.fps * plan.segmentSeconds);
    video.forEach((r, i) => {
      args.push('-map', `[v${i}]`);
      args.push(`-b:v:${i}`, `${r.videoKbps}k`, `-maxrate:v:${i}`, `${r.maxrateKbps}k`, `-bufsize:v:${i}`, `${r.bufsizeKbps}k`);
      if (plan.audio) args.push('-map', '0:a:0');
      streamMap.push(plan.audio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`);
      names.push(r.name);
    });
    args.push(
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
      '-force_key_frames', `expr:gte(t,n_forced*${plan.segmentSeconds})`,
    );
  } else if (plan.audio) {
    args.push('-map', '0:a:0');
    streamMap.push('a:0,name:audio');
    names.push('audio');
  }
  if (plan.audio) {
    args.push('-c:a', 'aac', '-b:a', `${plan.audio.kbps}k`, '-ac', String(plan.audio.channels), '-ar', String(plan.audio.sampleRate));
  }
  args.push(
    '-f', 'hls',
    '-hls_time', String(plan.segmentSeconds),
    '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    '-hls_segment_filename', `${outputDir}/%v/segment_%05d.ts`,
    '-master_pl_name', 'master.m3u8',
    '-var_stream_map', streamMap.join(' '),
    '-progress', 'pipe:1', '-nostats',
    `${outputDir}/%v/index.m3u8`,
  );
  return { args, variantPlaylists: names.map((n) => `${n}/index.m3u8`), masterPlaylist: 'master.m3u8' };
}

/** Percent done from FFmpeg's `-progress` output (`out_time_us=…` lines); pure. */
export function progressPercent(progressLine: string, durationSeconds: number): number | undefined {
  const match = /^out_time_us=(\d+)$/.exec(progressLine.trim());
  if (!match || !(durationSeconds > 0)) return undefined;
  return Math.max(0, Math.min(100, Math.floor(Number(match[1]) / 1e6 / durationSeconds * 100)));
}

/** One JPEG frame of the source, as planned by planPoster(). */
export function posterCommand(input: string, output: string, plan: PosterPlan): string[] {
  // -ss before -i seeks by index instead of decoding up to the point.
  return ['-hide_banner', '-nostdin', '-y', '-ss', plan.atSeconds.toFixed(3), ...inputArgs(input), '-an', '-sn', '-frames:v', '1',
    '-vf', `scale=${plan.width}:${plan.height}`, '-q:v', '3', output];
}

/** The storyboard sprite: one frame every interval, tiled into one JPEG. */
export function storyboardCommand(input: string, output: string, plan: StoryboardPlan): string[] {
  const filter = `fps=1/${plan.intervalSeconds},scale=${plan.tileWidth}:${plan.tileHeight},tile=${plan.columns}x${plan.rows}`;
  return ['-hide_banner', '-nostdin', '-y', ...inputArgs(input), '-an', '-sn', '-vf', filter, '-frames:v', '1', '-q:v', '5', output];
}
