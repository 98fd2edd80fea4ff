// Weft web UI: the JSON API of `weft serve` as the pages call it. `api()` sends JSON (or a
// component's bytes), adds the API token kept in this browser to every change, and throws an
// ApiError with the server's own message on a 4xx/5xx.

export const TOKEN_KEY = 'weft.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; JSON in and out. A Blob body is sent as is (an upload). Throws ApiError
 *  with the server's {"error"} message on a 4xx/5xx. */
export async function api(method, path, body) {
  const headers = {};
  const token = localStorage.getItem(TOKEN_KEY);
  if (method !== 'GET' && token) headers.Authorization = `Bearer ${token}`;
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
      message = `a token is required: set the API token in the left navigation (server: ${message})`;
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

export const enc = encodeURIComponent;
