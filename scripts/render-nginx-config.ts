import { renderNginxConfig } from './stack/nginx.ts';

// Prints the nginx-rtmp configuration for the container image (see Dockerfile). The
// secret is a placeholder the container fills in from INTERNAL_SECRET at start.
process.stdout.write(
  renderNginxConfig({
    prefix: '/var/lib/streamhub/nginx',
    hlsDir: '/var/lib/streamhub/hls',
    recordingsDir: '/var/lib/streamhub/recordings',
    listenHost: '0.0.0.0',
    rtmpPort: 1935,
    httpPort: 8080,
    apiUrl: 'http://api:3000',
    internalSecret: '__INTERNAL_SECRET__',
    runAsUser: 'root',
  }),
);
