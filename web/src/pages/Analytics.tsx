// /dashboard/analytics — a creator's numbers per UTC day or hour over a chosen range: totals,
// one metric as a small bar chart (the table below it holds every number, for screen readers
// and exact reading) and the broadcasts of the range.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useCreatorAnalytics, type AnalyticsBucket, type AnalyticsQuery, type CreatorAnalytics, type Granularity } from '../features/analytics/api.ts';
import { DAY_MS, dayAfter, dayBefore, formatDuration as duration, isoDate } from '../features/analytics/format.ts';
import { formatMoney } from '../features/money/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';
import '../analytics.css';

const todayMs = () => Math.floor(Date.now() / DAY_MS) * DAY_MS;

type Metric = 'views' | 'uniqueViewers' | 'watchTimeSeconds' | 'averageViewDurationSeconds' | 'likes' | 'comments' | 'newFollowers' | 'earnings';
const metricNames: Record<Metric, string> = {
  views: 'Views',
  uniqueViewers: 'Unique viewers',
  watchTimeSeconds: 'Watch time',
  averageViewDurationSeconds: 'Average view duration',
  likes: 'Likes',
  comments: 'Comments',
  newFollowers: 'New followers',
  earnings: 'Earnings',
};
const metrics = Object.keys(metricNames) as Metric[];

const number = (n: number) => new Intl.NumberFormat().format(n);
const valueOf = (p: AnalyticsBucket, metric: Metric) => (metric === 'earnings' ? p.earnings.amount : p[metric]);
function formatValue(p: AnalyticsBucket, metric: Metric): string {
  if (metric === 'earnings') return formatMoney(p.earnings.amount, p.earnings.currency);
  if (metric === 'watchTimeSeconds' || metric === 'averageViewDurationSeconds') return duration(p[metric]);
  return number(p[metric]);
}
const bucketLabel = (start: string, granularity: Granularity) => (granularity === 'day' ? start.slice(0, 10) : `${start.slice(0, 10)} ${start.slice(11, 16)}`);
const dateTime = (iso: string) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso)) + ' UTC';

function Totals({ data }: { data: CreatorAnalytics }) {
  const t = data.totals;
  const items: [string, string, string][] = [
    ['views', 'Views', number(t.views)],
    ['watch-time', 'Watch time', duration(t.watchTimeSeconds)],
    ['average-view-duration', 'Average view duration', duration(t.averageViewDurationSeconds)],
    ['likes', 'Likes', number(t.likes)],
    ['comments', 'Comments', number(t.comments)],
    ['new-followers', 'New followers', number(t.newFollowers)],
    ['earnings', 'Earnings', formatMoney(t.earnings.amount, t.earnings.currency)],
  ];
  return (
    <dl className="analytics-totals" aria-label="Totals">
      {items.map(([id, name, value]) => (
        <div key={id} data-testid={`total-${id}`}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Chart({ data, metric }: { data: CreatorAnalytics; metric: Metric }) {
  const values = data.series.map((p) => valueOf(p, metric));
  const max = Math.max(1, ...values.map(Math.abs));
  const width = Math.max(1, values.length) * 10;
  const summary = `${metricNames[metric]} per ${data.granularity}, ${data.series.length} ${data.granularity}s, highest ${number(Math.max(0, ...values))}`;
  return (
    <svg className="analytics-chart" viewBox={`0 0 ${width} 100`} preserveAspectRatio="none" role="img" aria-label={summary}>
      {values.map((v, i) => {
        const height = (Math.abs(v) / max) * 100;
        return <rect key={data.series[i]!.bucketStart} x={i * 10 + 1} y={100 - height} width={8} height={height} className={v < 0 ? 'negative' : undefined} />;
      })}
    </svg>
  );
}

function SeriesTable({ data }: { data: CreatorAnalytics }) {
  return (
    <div className="table-wrap">
      <table data-testid="analytics-series">
        <caption className="visually-hidden">Every {data.granularity} of the range (UTC), oldest first</caption>
        <thead>
          <tr>
            <th scope="col">{data.granularity === 'day' ? 'Day (UTC)' : 'Hour (UTC)'}</th>
            {metrics.map((m) => (
              <th scope="col" key={m}>
                {metricNames[m]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.series.map((p) => (
            <tr key={p.bucketStart}>
              <th scope="row">
                <time dateTime={p.bucketStart}>{bucketLabel(p.bucketStart, data.granularity)}</time>
              </th>
              {metrics.map((m) => (
                <td key={m}>{formatValue(p, m)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Broadcasts({ data }: { data: CreatorAnalytics }) {
  if (data.broadcasts.length === 0) return <p className="muted">No broadcasts in this range.</p>;
  return (
    <div className="table-wrap">
      <table data-testid="analytics-broadcasts">
        <caption className="visually-hidden">Your broadcasts in the range, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Broadcast</th>
            <th scope="col">Started</th>
            <th scope="col">Ended</th>
            <th scope="col">Peak viewers</th>
            <th scope="col">Average viewers</th>
            <th scope="col">Unique viewers</th>
            <th scope="col">Chat messages</th>
            <th scope="col">Likes</th>
          </tr>
        </thead>
        <tbody>
          {data.broadcasts.map((b) => (
            <tr key={b.streamId}>
              <th scope="row">
                <Link to={urls.stream(b.streamId)}>{b.title}</Link>
              </th>
              <td>{dateTime(b.startedAt)}</td>
              <td>{b.endedAt ? dateTime(b.endedAt) : 'On air'}</td>
              <td>{number(b.peakViewers)}</td>
              <td>{b.averageViewers.toFixed(1)}</td>
              <td>{number(b.uniqueViewers)}</td>
              <td>{number(b.chatMessages)}</td>
              <td>{number(b.likes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Results({ query }: { query: AnalyticsQuery }) {
  const [metric, setMetric] = useState<Metric>('views');
  const result = useCreatorAnalytics(query);
  if (result.isPending) return <Loading />;
  if (result.isError) {
    if (result.error instanceof ApiError && result.error.status === 403) return <p>Analytics are for creators: going live or uploading a video makes you one.</p>;
    return <ErrorMessage error={result.error} />;
  }
  const data = result.data;
  return (
    <>
      <p className="hint" data-testid="analytics-freshness">
        Buckets are UTC {data.granularity}s, recomputed every five minutes.{' '}
        {data.computedAt ? `Last computed ${dateTime(data.computedAt)}.` : 'Not computed yet.'}
      </p>
      <h2>Totals</h2>
      <Totals data={data} />
      <h2>Per {data.granularity}</h2>
      <label className="field analytics-metric">
        Chart
        <select value={metric} onChange={(e) => setMetric(e.target.value as Metric)}>
          {metrics.map((m) => (
            <option key={m} value={m}>
              {metricNames[m]}
            </option>
          ))}
        </select>
      </label>
      <Chart data={data} metric={metric} />
      <SeriesTable data={data} />
      <h2>Broadcasts</h2>
      <Broadcasts data={data} />
    </>
  );
}

function AnalyticsContent() {
  const [query, setQuery] = useState<AnalyticsQuery>(() => ({ granularity: 'day', from: isoDate(todayMs() - 29 * DAY_MS), to: isoDate(todayMs() + DAY_MS) }));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setQuery({ granularity: form.get('granularity') as Granularity, from: String(form.get('from')), to: dayAfter(String(form.get('to'))) });
  };
  return (
    <>
      <h1>Analytics</h1>
      <p>
        <Link to="/dashboard">Back to the dashboard</Link> · <Link to={urls.earnings()}>Earnings</Link> · <Link to={urls.subscribers()}>Subscribers</Link>
      </p>
      <form className="analytics-range" onSubmit={submit} aria-label="Range">
        <label className="field">
          Granularity
          <select name="granularity" defaultValue={query.granularity}>
            <option value="day">Day (up to 366 days)</option>
            <option value="hour">Hour (up to 31 days)</option>
          </select>
        </label>
        <label className="field">
          From (UTC)
          <input type="date" name="from" defaultValue={query.from} required />
        </label>
        <label className="field">
          To (UTC, included)
          <input type="date" name="to" defaultValue={dayBefore(query.to)} required />
        </label>
        <button type="submit">Show</button>
      </form>
      <Results query={query} />
    </>
  );
}

export default function Analytics() {
  return (
    <RequireSignIn>
      <AnalyticsContent />
    </RequireSignIn>
  );
}
