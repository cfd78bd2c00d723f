import { Link } from 'react-router';
import { urls } from '../urls.ts';

export default function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link to={urls.home()}>Go home</Link>
      </p>
    </section>
  );
}
