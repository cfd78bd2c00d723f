import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { urls } from '../../urls.ts';
import { hitLabel, hitUrl, MAX_QUERY_CHARS, useSuggestions, type SearchHit } from './api.ts';

/** `value`, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

const kindLabel: Record<SearchHit['type'], string> = { video: 'Video', stream: 'Live', channel: 'Channel' };

/**
 * The header's search: a combobox (WAI-ARIA 1.2 list autocomplete) whose suggestions follow
 * the typing after a 250 ms pause. Arrows move through them, Enter opens the chosen one (or
 * the results page), Escape closes the list.
 */
export function SearchBox() {
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  const listId = `${id}-suggestions`;
  const [text, setText] = useState(() => (location.pathname === '/search' ? (new URLSearchParams(location.search).get('q') ?? '') : ''));
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const q = useDebounced(text.trim(), 250);
  const suggestions = useSuggestions(q);
  const hits = (open && text.trim() && suggestions.data) || [];
  const expanded = hits.length > 0;

  // Leaving a page closes the list.
  useEffect(() => setOpen(false), [location.pathname, location.search]);
  useEffect(() => setActive(-1), [suggestions.data]);

  const go = (to: string) => {
    setOpen(false);
    void navigate(to);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const chosen = hits[active];
    if (chosen) go(hitUrl(chosen));
    else if (text.trim()) go(urls.search(text.trim()));
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      if (hits.length) setActive((i) => (e.key === 'ArrowDown' ? (i + 1) % hits.length : (i <= 0 ? hits.length : i) - 1));
    } else if (e.key === 'Escape' && expanded) {
      // The first Escape closes the list; only the next one clears the field (the browser's own).
      e.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };

  return (
    <form role="search" className="search-box" onSubmit={submit}>
      <label htmlFor={`${id}-input`} className="visually-hidden">
        Search videos, live streams and channels
      </label>
      <input
        id={`${id}-input`}
        type="search"
        role="combobox"
        placeholder="Search"
        autoComplete="off"
        maxLength={MAX_QUERY_CHARS}
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onKeyDown={onKeyDown}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
      />
      <ul id={listId} role="listbox" aria-label="Suggestions" className="suggestions" hidden={!expanded}>
        {hits.map((hit, i) => (
          <li
            key={`${hit.type}-${hit.id}`}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active}
            // Before the input's blur closes the list.
            onMouseDown={(e) => {
              e.preventDefault();
              go(hitUrl(hit));
            }}
          >
            <span className="suggestion-kind">{kindLabel[hit.type]}</span> {hitLabel(hit)}
          </li>
        ))}
      </ul>
    </form>
  );
}
