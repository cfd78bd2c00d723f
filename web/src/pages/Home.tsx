import { Link } from 'react-router';
import { useCategories } from '../features/categories/api.ts';
import { useLiveStreams } from '../features/streams/api.ts';
import { useTrending, useVideos } from '../features/videos/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VideoGrid } from '../layout/VideoCard.tsx';
import { urls } from '../urls.ts';

export default function Home() {
  const live = useLiveStreams();
  const trending = useTrending();
  const videos = useVideos({ limit: 24 });
  const categories = useCategories();
  return (
    <>
      <h1>StreamHub</h1>
      <section aria-labelledby="live-now">
        <h2 id="live-now">Live now</h2>
        {live.isPending ? (
          <Loading />
        ) : live.isError ? (
          <ErrorMessage error={live.error} />
        ) : live.data.length === 0 ? (
          <p className="muted">Nobody is live right now.</p>
        ) : (
          <ul className="grid">
            {live.data.map((s) => (
              <li key={s.id} className="card">
                <Link to={urls.stream(s.id)}>
                  <span className="badge live">Live</span> <span className="card-title">{s.title}</span>
                </Link>
                <span className="muted">{s.viewers} watching</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="trending">
        <h2 id="trending">Trending</h2>
        {trending.isPending ? (
          <Loading />
        ) : trending.isError ? (
          <ErrorMessage error={trending.error} />
        ) : (
          <VideoGrid videos={trending.data} empty="Nothing is trending yet: views, likes and comments of the last days put videos here." />
        )}
      </section>
      <section aria-labelledby="recent-videos">
        <h2 id="recent-videos">Recent videos</h2>
        {videos.isPending ? <Loading /> : videos.isError ? <ErrorMessage error={videos.error} /> : <VideoGrid videos={videos.data} empty="No videos yet." />}
      </section>
      <section aria-labelledby="categories">
        <h2 id="categories">Categories</h2>
        {categories.isPending ? (
          <Loading />
        ) : categories.isError ? (
          <ErrorMessage error={categories.error} />
        ) : (
          <ul className="chips">
            {categories.data.map((c) => (
              <li key={c.id}>{c.name}</li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
