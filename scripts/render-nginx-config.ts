import { DEFAULT_RTMP_HLS_DIR, DEFAULT_RTMP_RECORDINGS_DIR } from '../lib/config.ts';
import { renderNginxConfig } from './stack/nginx.ts';

// Prints the nginx-rtmp configuration for the container image (see Dockerfile). The
// secret is a placeholder the container fills in from INTERNAL_SECRET at start.
process.stdout.write(
  renderNginxConfig({
    prefix: '/var/lib/streamhub/nginx',
    // RTMP_HLS_DIR's default, where the media workers take live thumbnails from.
    hlsDir: DEFAULT_RTMP_HLS_DIR,
    // RTMP_RECORDINGS_DIR's default, which the API and the workers check recordings against.
    recordingsDir: DEFAULT_RTMP_RECORDINGS_DIR,
    listenHost: '0.0.0.0',
    rtmpPort: 1935,
    httpPort: 8080,
    controlPort: 8081,
    // The workers' containers on the deployment's private network.
    controlAllow: ['127.0.0.1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    apiUrl: 'http://api:3000',
    // Docker's DNS: the API's address may change when its container is replaced.
    resolver: '127.0.0.11',
    internalSecret: '__INTERNAL_SECRET__',
    // Worker processes as uid 1000, the owner the worker container (node) shares: see Dockerfile.
    runAsUser: 'streamhub',
  }),
);
