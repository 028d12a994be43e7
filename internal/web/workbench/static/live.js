// The agent WebSocket (docs/protocol.md): reconnects with back-off, keeps
// the heartbeat, and hands every frame to onFrame. After a reconnect
// onReconnect lets the app fill what it missed from the REST API.

export class Live {
  constructor(tokenFn, { onFrame, onStatus, onReconnect }) {
    this.tokenFn = tokenFn;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.onReconnect = onReconnect || (() => {});
    this.backoff = 500;
    this.closed = false;
    this.everOpened = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws/agent?token=${encodeURIComponent(this.tokenFn())}`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (f.type === 'welcome') {
        this.backoff = 500;
        this.startHeartbeat((f.heartbeat_interval || 25) * 1000 * 0.8);
        // Every conversation of the workspace: the list shows them all.
        this.send({ type: 'subscribe', all: true });
        this.onStatus(true);
        if (this.everOpened) this.onReconnect();
        this.everOpened = true;
      }
      this.onFrame(f);
    };
    ws.onclose = (ev) => {
      clearInterval(this.hb);
      this.onStatus(false);
      if (this.closed || ev.code === 4001) return;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 15000);
    };
  }

  startHeartbeat(ms) {
    clearInterval(this.hb);
    this.hb = setInterval(() => this.send({ type: 'ping' }), ms);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  close() { this.closed = true; clearInterval(this.hb); if (this.ws) this.ws.close(1000); }
}
