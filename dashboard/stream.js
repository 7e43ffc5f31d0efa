// Server-sent events read over fetch, so that the token goes in a header (EventSource cannot send it).

import { $ } from './dom.js';

/** Server-sent events over fetch (EventSource cannot send the token); reconnects with Last-Event-ID. */
export function subscribe(path, token, onEvent, { lastId } = {}) {
  const controller = new AbortController();
  let last = lastId;
  const open = async () => {
    while (!controller.signal.aborted) {
      try {
        const headers = {
          authorization: `Bearer ${token}`,
          ...(last === undefined ? {} : { 'last-event-id': String(last) }),
        };
        const res = await fetch(path, { headers, signal: controller.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        connection(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const msg = { event: 'message', data: '' };
            for (const line of block.split('\n')) {
              const at = line.indexOf(':');
              if (at <= 0) continue;
              const field = line.slice(0, at);
              const val = line.slice(at + 1).replace(/^ /, '');
              if (field === 'data') msg.data += (msg.data ? '\n' : '') + val;
              else if (field === 'event') msg.event = val;
              else if (field === 'id') msg.id = last = val;
            }
            if (msg.data !== '' && onEvent(msg) === false) return controller.abort();
          }
        }
      } catch {
        if (controller.signal.aborted) return;
        connection(false);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void open();
  return () => controller.abort();
}

function connection(live) {
  const c = $('connection');
  c.textContent = live ? 'live' : 'reconnecting…';
  c.classList.toggle('live', live);
}
