import { visibilityLabel, type Visibility } from './api.ts';

/** A playlist's visibility, labelled as the create and edit forms show it. */
export function VisibilitySelect({ value, onChange }: { value: Visibility; onChange: (visibility: Visibility) => void }) {
  return (
    <label>
      Visibility
      <select value={value} onChange={(e) => onChange(e.target.value as Visibility)}>
        {Object.entries(visibilityLabel).map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}
