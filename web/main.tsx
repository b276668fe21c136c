import { render } from 'preact';
import { App } from './app.js';
import { liveFeed } from './live-feed.js';
import './styles.css';

// One page-wide event stream, opened before any view asks for it, so the connection state is known early.
liveFeed();
const root = document.getElementById('app')!;
// The page's own "loading" line goes: Preact renders beside what it did not make.
root.replaceChildren();
render(<App />, root);
