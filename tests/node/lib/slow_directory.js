// SlowRestoreDir: a RestoreDir whose "data" file is a named pipe drained at a chosen rate, so that a
// TestEngine restore (which otherwise finishes in milliseconds) stays running while a test acts on
// it. drainFully() lets the restore run at full speed (e.g. once a cancellation was requested).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

class SlowRestoreDir {
  constructor(dir, { bytesPerSecond = 256 * 1024 } = {}) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    this.pipe = path.join(dir, 'data');
    execFileSync('mkfifo', [this.pipe]);
    // Opened read-side and non-blocking: the writer's open() succeeds at once, reads never block.
    this.fd = fs.openSync(this.pipe, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.received = 0;
    this.tickMs = 50;
    this.perTick = Math.max(1, Math.floor((bytesPerSecond * this.tickMs) / 1000));
    this.buffer = Buffer.alloc(1 << 20);
    this.timer = setInterval(() => this.drain(this.perTick), this.tickMs);
  }

  drain(limit) {
    let left = limit;
    while (left > 0) {
      let n;
      try {
        n = fs.readSync(this.fd, this.buffer, 0, Math.min(left, this.buffer.length), null);
      } catch (e) {
        if (e.code === 'EAGAIN') return;
        throw e;
      }
      if (n === 0) return;
      this.received += n;
      left -= n;
    }
  }

  drainFully() {
    this.perTick = Number.MAX_SAFE_INTEGER;
  }

  close() {
    clearInterval(this.timer);
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
  }
}

module.exports = { SlowRestoreDir };
