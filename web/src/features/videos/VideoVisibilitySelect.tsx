import type { Video } from './api.ts';

/** Who may watch a video, as the upload and edit forms offer it (a form field named `visibility`). */
export function VideoVisibilitySelect({ defaultValue }: { defaultValue: Video['visibility'] }) {
  return (
    <label>
      Visibility
      <select name="visibility" defaultValue={defaultValue}>
        <option value="public">Public</option>
        <option value="unlisted">Unlisted (only people with the link)</option>
        <option value="subscribers">Subscribers only (your channel’s subscribers)</option>
        <option value="private">Private (only you)</option>
      </select>
    </label>
  );
}
