import { describe, expect, it } from 'vitest';
import { isRecordingOf, reportedRecording } from '../../lib/streams.ts';

// nginx-rtmp reports each closed recording with its path; only a recording of that stream,
// directly inside the recordings directory, is passed on, and only by name.
const dir = '/var/lib/streamhub/recordings';
const streamId = '0b6f3a52-8d5e-4f43-9a55-2f3f1a0c9e11';
const other = '7d1c2b9e-0f4a-4c3e-8b7a-1e2d3c4b5a69';

describe('recordings reported by nginx-rtmp', () => {
  it('passes on a recording of the stream inside the directory, by name', () => {
    expect(reportedRecording(dir, streamId, `${dir}/${streamId}-1764640000.flv`)).toBe(`${streamId}-1764640000.flv`);
    expect(reportedRecording(`${dir}/`, streamId, `${dir}/${streamId}-1764640000.flv`)).toBe(`${streamId}-1764640000.flv`);
  });

  it.each([
    ['a file outside the directory', '/etc/passwd'],
    ['a recording name outside the directory', `/tmp/${streamId}-1764640000.flv`],
    ['a climb out of the directory', `${dir}/../${streamId}-1764640000.flv`],
    ['a climb hidden in the middle', `${dir}/x/../../recordings/${streamId}-1764640000.flv`],
    ['a subdirectory', `${dir}/sub/${streamId}-1764640000.flv`],
    ['another stream\'s recording', `${dir}/${other}-1764640000.flv`],
    ['the directory itself', dir],
    ['a relative path', `${streamId}-1764640000.flv`],
    ['a name with more after it', `${dir}/${streamId}-1764640000.flv.bak`],
  ])('ignores %s', (_what, reported) => {
    expect(reportedRecording(dir, streamId, reported)).toBeUndefined();
  });

  it('knows a recording name only as <stream id>-<unix time>.flv', () => {
    expect(isRecordingOf(streamId, `${streamId}-1764640000.flv`)).toBe(true);
    expect(isRecordingOf(streamId, `${streamId}-.flv`)).toBe(false);
    expect(isRecordingOf(streamId, `${streamId}-1764640000.mp4`)).toBe(false);
    expect(isRecordingOf(streamId, `${streamId}-1/../../x.flv`)).toBe(false);
    expect(isRecordingOf(streamId, `../${streamId}-1764640000.flv`)).toBe(false);
    expect(isRecordingOf(streamId, `${other}-1764640000.flv`)).toBe(false);
  });
});
