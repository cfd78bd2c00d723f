// An upload in three steps (README "Videos"): create the video and get a presigned URL, PUT
// the file there (XHR: fetch has no upload progress), then `complete`, which starts the transcode.
import { api, unwrap } from '../../api/client.ts';
import type { Video } from './api.ts';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** PUTs `file` to a presigned URL, reporting progress; rejects on a network error, abort or non-2xx. */
export function putFile(url: string, file: Blob, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`The storage refused the file (${xhr.status})`)));
    xhr.onerror = () => reject(new Error('The upload failed: network error'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

export async function uploadVideo(
  input: { file: File; title: string; description: string; visibility: Video['visibility']; idempotencyKey: string },
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<Video> {
  const created = await unwrap(
    api.POST('/api/v1/videos', {
      headers: { 'idempotency-key': input.idempotencyKey },
      body: { title: input.title, description: input.description, visibility: input.visibility, sizeBytes: input.file.size },
    }),
  );
  await putFile(created.uploadUrl, input.file, onProgress, signal);
  return unwrap(api.POST('/api/v1/videos/{id}/complete', { params: { path: { id: created.video.id } } }));
}
