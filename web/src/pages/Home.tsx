import { Link } from 'react-router';
import { useSession } from '../api/session.ts';
import { useCategories } from '../features/categories/api.ts';
import { useFollowedLiveStreams, useLiveStreams, type Stream } from '../features/streams/api.ts';
import { useFeed, useTrending, useVideos } from '../features/videos/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VideoCardLink, VideoGrid } from '../layout/VideoCard.tsx';
import { urls } from '../urls.ts';

function LiveGrid({ streams, empty }: { streams: Stream[]; empty: string }) {
  if (streams.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="grid">
      {streams.map((s) => (
        <li key={s.id} className="card">
          <Link to={urls.stream(s.id)}>
            {/* Retaken every minute while live: its URL changes with each image. */}
            {s.thumbnailUrl ? <img src={s.thumbnailUrl} alt="" width={320} height={180} loading="lazy" /> : <div className="thumb-placeholder" aria-hidden="true" />}
            <span>
              <span className="badge live">Live</span> <span className="card-title">{s.title}</span>
            </span>
          </Link>
          <span className="muted">{s.viewers} watching</span>
        </li>
      ))}
    </ul>
  );
}

/** Signed in: live and new from the channels you follow, then recommendations (GET /feed). */
function YourFeed() {
  const live = useFollowedLiveStreams(true);
  const feed = useFeed(true);
  return (
    <>
      <section aria-labelledby="following">
        <h2 id="following">From channels you follow</h2>
        {live.data && live.data.length > 0 && <LiveGrid streams={live.data} empty="" />}
        {feed.isPending ? (
          <Loading />
        ) : feed.isError ? (
          <ErrorMessage error={feed.error} />
        ) : (
          <VideoGrid videos={feed.data.uploads} empty="Nothing new from the channels you follow. Follow channels to see their videos here." />
        )}
      </section>
      <section aria-labelledby="recommended">
        <h2 id="recommended">Recommended for you</h2>
        {feed.isPending ? (
          <Loading />
        ) : feed.isError ? (
          <ErrorMessage error={feed.error} />
        ) : feed.data.recommended.length === 0 ? (
          <p className="muted">Nothing to recommend yet: watch a few videos.</p>
        ) : (
          <ul className="grid">
            {feed.data.recommended.map((v) => (
              <li key={v.id} className="card">
                <VideoCardLink video={v} />
                <span className="muted">{v.reason === 'co_watched' ? 'Viewers like you watched' : 'Trending'}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** Signed out: what is trending. */
function Trending() {
  const trending = useTrending();
  return (
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
  );
}

export default function Home() {
  const signedIn = useSession() !== null;
  const live = useLiveStreams();
  const videos = useVideos({ limit: 24 });
  const categories = useCategories();
  return (
    <>
      <h1>StreamHub</h1>
      {signedIn && <YourFeed />}
      <section aria-labelledby="live-now">
        <h2 id="live-now">Live now</h2>
        {live.isPending ? <Loading /> : live.isError ? <ErrorMessage error={live.error} /> : <LiveGrid streams={live.data} empty="Nobody is live right now." />}
      </section>
      {!signedIn && <Trending />}
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
