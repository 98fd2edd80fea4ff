// Weft web UI: the JSON API of `weft serve` as the pages call it. `api()` sends JSON (or a
// component's bytes) with the API token kept for this tab (sessionStorage), and throws an
// ApiError with the server's own message on a 4xx/5xx; a 401 also asks for the token
// (the `weft:token-needed` event, which main.js answers). `eventStream()` reads a run's
// server-sent events over fetch, so that they carry the token too (EventSource cannot).

export const TOKEN_KEY = 'weft.token';

/** The Authorization header of the token kept for this tab, if any. */
function authorization() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; JSON in and out. A Blob body is sent as is (an upload). Throws ApiError
 *  with the server's {"error"} message on a 4xx/5xx. */
export async function api(method, path, body) {
  const headers = authorization();
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = 'application/wasm';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    let message = (data && typeof data === 'object' && data.error) ||
      (typeof data === 'string' && data.trim()) || `${res.status} ${res.statusText}`;
    if (res.status === 401) {
      message = `a token is required: enter the API token in the left navigation (server: ${message})`;
      window.dispatchEvent(new CustomEvent('weft:token-needed'));
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

export const enc = encodeURIComponent;

/**
 * Reads the server-sent events of `path` as they come: `on.open()` once the stream is
 * answered, `on[name](data, id)` for each event, then `on.closed()` when the server ends it,
 * or `on.failed(message)` if it cannot be read (a 401, the network). Returns a function that
 * stops reading.
 */
export function eventStream(path, on) {
  const stop = new AbortController();
  (async () => {
    let res;
    try {
      res = await fetch(path, { headers: { ...authorization(), Accept: 'text/event-stream' }, signal: stop.signal });
    } catch (e) {
      if (!stop.signal.aborted) on.failed?.(e.message);
      return;
    }
    if (!res.ok || !res.body) {
      if (res.status === 401) window.dispatchEvent(new CustomEvent('weft:token-needed'));
      on.failed?.(`${res.status} ${res.statusText}`);
      return;
    }
    on.open?.();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let name = 'message';
          let id = '';
          const data = [];
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon === 0) continue; // a comment (keep-alive)
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') name = text;
            else if (field === 'data') data.push(text);
            else if (field === 'id') id = text;
          }
          if (data.length) on[name]?.(data.join('\n'), id);
        }
      }
    } catch (e) {
      if (!stop.signal.aborted) on.failed?.(e.message);
      return;
    }
    if (!stop.signal.aborted) on.closed?.();
  })();
  return () => stop.abort();
}
