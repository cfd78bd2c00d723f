import { Link, useSearchParams } from 'react-router';
import { hitUrl, useSearch, type SearchHit, type SearchSort, type SearchType } from '../features/search/api.ts';
import { formatDuration } from '../layout/VideoCard.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

const TABS: [SearchType, string][] = [
  ['all', 'All'],
  ['video', 'Videos'],
  ['stream', 'Live'],
  ['channel', 'Channels'],
];
const SORTS: [SearchSort, string][] = [
  ['relevance', 'Relevance'],
  ['newest', 'Newest'],
  ['views', 'Most viewed'],
];
const oneOf = <T extends string>(value: string | null, options: [T, string][]): T => options.find(([v]) => v === value)?.[0] ?? options[0]![0];

function Hit({ hit }: { hit: SearchHit }) {
  if (hit.type === 'video') {
    return (
      <li className="card">
        <Link to={hitUrl(hit)}>
          {hit.thumbnailUrl ? <img src={hit.thumbnailUrl} alt="" width={320} height={180} loading="lazy" /> : <div className="thumb-placeholder" aria-hidden="true" />}
          <span className="card-title">{hit.title}</span>
        </Link>
        <span className="muted">
          {hit.channel.displayName} · {hit.viewCount} views · {formatDuration(hit.durationSeconds)}
        </span>
      </li>
    );
  }
  if (hit.type === 'stream') {
    return (
      <li className="card">
        <Link to={hitUrl(hit)}>
          <span className="badge live">Live</span> <span className="card-title">{hit.title}</span>
        </Link>
        <span className="muted">
          {hit.channel.displayName} · {hit.currentViewers} watching
        </span>
      </li>
    );
  }
  return (
    <li className="card">
      <Link to={hitUrl(hit)}>
        <span className="card-title">{hit.displayName}</span>
        <span>@{hit.username}</span>
      </Link>
      <span className="muted">Channel · {hit.followerCount} followers</span>
    </li>
  );
}

/** `/search?q=&type=&sort=`: the results, by kind (tabs) and order. */
export default function Search() {
  const [params, setParams] = useSearchParams();
  const q = (params.get('q') ?? '').trim();
  const type = oneOf(params.get('type'), TABS);
  const sort = oneOf(params.get('sort'), SORTS);
  const results = useSearch(q, type, sort);
  const hits = results.data?.pages.flatMap((p) => p.items) ?? [];
  const onlySimilar = hits.length > 0 && hits.every((h) => h.match === 'typo');

  if (!q) {
    return (
      <>
        <h1>Search</h1>
        <p className="muted">Type what you are looking for in the search box above.</p>
      </>
    );
  }
  return (
    <>
      <h1>Results for “{q}”</h1>
      <div className="search-controls">
        <nav aria-label="Result types" className="tabs">
          {TABS.map(([value, label]) => (
            <Link key={value} to={`${urls.search(q, value)}${sort === 'relevance' ? '' : `&sort=${sort}`}`} aria-current={value === type ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <label className="inline">
          Sort by
          <select
            value={sort}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value === 'relevance') next.delete('sort');
              else next.set('sort', e.target.value);
              setParams(next);
            }}
          >
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {results.isPending ? (
        <Loading what="Searching…" />
      ) : results.isError ? (
        <ErrorMessage error={results.error} />
      ) : hits.length === 0 ? (
        <p className="muted">Nothing found for “{q}”.</p>
      ) : (
        <>
          {onlySimilar && <p className="muted">No exact matches; showing similar titles and names.</p>}
          <ul className="grid" aria-label="Results">
            {hits.map((hit) => (
              <Hit key={`${hit.type}-${hit.id}`} hit={hit} />
            ))}
          </ul>
          {results.hasNextPage && (
            <p>
              <button type="button" className="secondary" disabled={results.isFetchingNextPage} onClick={() => void results.fetchNextPage()}>
                More results
              </button>
            </p>
          )}
        </>
      )}
    </>
  );
}
