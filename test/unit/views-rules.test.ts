import { describe, expect, it } from 'vitest';
import { finishedFrom, resumeAt, viewerKey } from '../../lib/views.ts';

describe('view rules', () => {
  it('counts a heartbeat for the user, else a well-formed device id, else the address', () => {
    const user = '6f1c7f0e-7c4b-4a57-9c1e-0d6f1b8a2c3d';
    expect(viewerKey({ userId: user, deviceId: 'device-1234', clientAddress: '10.0.0.1' })).toBe(`u:${user}`);
    expect(viewerKey({ deviceId: 'device-1234', clientAddress: '10.0.0.1' })).toBe('d:device-1234');
    for (const deviceId of [undefined, 'short', 'x'.repeat(65), 'has space!', 42]) {
      expect(viewerKey({ deviceId, clientAddress: '10.0.0.1' })).toBe('a:10.0.0.1');
    }
  });

  it('counts the last 10 s or 5 % (whichever is longer) as finished', () => {
    expect(finishedFrom(100)).toBe(90);
    expect(finishedFrom(200)).toBe(190);
    expect(finishedFrom(1000)).toBe(950);
    expect(resumeAt(null, 100)).toBeNull();
    expect(resumeAt(89.99, 100)).toBe(89.99);
    expect(resumeAt(90, 100)).toBeNull();
    expect(resumeAt(949.5, 1000)).toBe(949.5);
    expect(resumeAt(950, 1000)).toBeNull();
    // Clips of 10 s or less always start over; an unknown duration never counts as finished.
    expect(resumeAt(0, 8)).toBeNull();
    expect(resumeAt(4000, null)).toBe(4000);
  });
});
