// The inbox's calls to this server's own REST API (the same one the SDK and the CLI use), and
// the reviewer's API key: typed once, kept in this tab's sessionStorage, sent on every call in
// the x-api-key header (the server's API keys) or as "Authorization: Bearer" (for an auth
// callable that reads that), as the reviewer chose. No cookies, so a page elsewhere cannot
// make the browser act for the reviewer (no CSRF to defend against).
"use strict";

const Api = (() => {
  const { pretty } = Dom;
  const KEY_STORAGE = "hitlgraph.inbox.apiKey";
  const HEADER_STORAGE = "hitlgraph.inbox.keyHeader";
  let unauthorized = () => {};

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function detailOf(data, status) {
    if (data && typeof data === "object" && "detail" in data) {
      const detail = data.detail;
      if (typeof detail === "string") return detail;
      if (Array.isArray(detail)) {
        return detail.map((d) => (d && d.msg ? `${(d.loc || []).join(".")}: ${d.msg}` : pretty(d)))
          .join("; ");
      }
      return pretty(detail);
    }
    if (typeof data === "string" && data) return data;
    return `HTTP ${status}`;
  }

  /** `method path` with `body` as JSON; the answer's JSON. Throws ApiError (status 0: no
   * answer); a 401 also calls the onUnauthorized hook with the key sent (null: none). */
  async function call(method, path, body) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const key = getKey();
    if (key && sessionStorage.getItem(HEADER_STORAGE) === "bearer") {
      headers.authorization = `Bearer ${key}`;
    } else if (key) {
      headers["x-api-key"] = key;
    }
    let response;
    try {
      // Relative to the page: /inbox -> /threads/..., and /prefix/inbox -> /prefix/threads/...
      response = await fetch(new URL(path, document.baseURI), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (err) {
      throw new ApiError(0, `The server did not answer (${err.message}). Is it running?`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (err) {
        data = text;
      }
    }
    if (response.status === 401) {
      unauthorized(key);
      throw new ApiError(401, detailOf(data, 401));
    }
    if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status));
    return data;
  }

  const getKey = () => sessionStorage.getItem(KEY_STORAGE);
  /** Keep `key`, to be sent as `header` ("x-api-key" or "bearer"). */
  const setKey = (key, header) => {
    sessionStorage.setItem(KEY_STORAGE, key);
    sessionStorage.setItem(HEADER_STORAGE, header === "bearer" ? "bearer" : "x-api-key");
  };
  const forgetKey = () => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(HEADER_STORAGE);
  };
  const threadPath = (threadId) => `threads/${encodeURIComponent(threadId)}`;
  const onUnauthorized = (hook) => { unauthorized = hook; };

  return { ApiError, call, forgetKey, getKey, onUnauthorized, setKey, threadPath };
})();
