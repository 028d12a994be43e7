// Alerts for new conversations and messages: a short chime made with
// WebAudio (no sound file to ship), a browser notification when the tab is
// in the background, and the unread count in the title.

export class Notifier {
  constructor() { this.ctx = null; this.baseTitle = 'Kefu'; this.sounds = 0; }

  // unlock creates the audio context inside a user gesture, which browsers
  // require before they play sound.
  unlock() {
    if (!this.ctx && window.AudioContext) this.ctx = new AudioContext();
    if (this.ctx && this.ctx.state === 'suspended') this.ctx.resume();
  }

  chime() {
    const ctx = this.ctx;
    if (!ctx) return;
    const t = ctx.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1320]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.2, t + i * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + i * 0.12);
      osc.stop(t + i * 0.12 + 0.3);
    }
    // The count of chimes played, for tests (the widget keeps the same).
    this.sounds++;
    document.body.dataset.sounds = String(this.sounds);
  }

  get permitted() { return window.Notification && Notification.permission === 'granted'; }

  async ask() {
    if (window.Notification && Notification.permission === 'default') await Notification.requestPermission();
    return this.permitted;
  }

  // alert chimes, and shows a notification if the agent is looking elsewhere.
  alert(title, body, onClick) {
    this.chime();
    if (!document.hidden && document.hasFocus()) return;
    if (!this.permitted) return;
    const n = new Notification(title, { body: String(body).slice(0, 140), tag: 'kefu' });
    n.onclick = () => { window.focus(); if (onClick) onClick(); n.close(); };
  }

  title(unread) { document.title = unread > 0 ? `(${unread}) ${this.baseTitle}` : this.baseTitle; }
}
