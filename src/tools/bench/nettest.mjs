// A tiny bounded iperf-like tool for the edge emulator (plain JS, no dependencies).
//   serve --host H --port P [--timeout-s T]      accept ONE connection, answer pings, count data, exit
//   send  --host H --port P --bytes B [--pings N] [--timeout-s T]
//         N one-byte ping-pongs (RTT), then B bytes; the server acknowledges after the last byte.
//         Prints {"bytes","seconds","mbps","rttMs"} as one JSON line.
import net from 'node:net';

const args = process.argv.slice(2);
const cmd = args[0];
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const host = opt('host', '127.0.0.1');
const port = Number(opt('port', '5201'));
const timeoutS = Math.min(Number(opt('timeout-s', '60')), 600);
const timer = setTimeout(() => { console.error(`nettest ${cmd}: timed out after ${timeoutS}s`); process.exit(3); }, timeoutS * 1000);

if (cmd === 'serve') {
  const server = net.createServer((sock) => {
    server.close();
    let mode = 'ping';
    let want = 0n;
    let got = 0n;
    let hdr = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      let off = 0;
      while (off < chunk.length) {
        if (mode === 'ping') {
          const c = chunk[off++];
          if (c === 0x50) sock.write(Buffer.from([0x50]));
          else if (c === 0x44) mode = 'hdr';
        } else if (mode === 'hdr') {
          const need = 8 - hdr.length;
          hdr = Buffer.concat([hdr, chunk.subarray(off, off + need)]);
          off += Math.min(need, chunk.length - off);
          if (hdr.length === 8) { want = hdr.readBigUInt64LE(0); mode = 'data'; if (want === 0n) { sock.end(Buffer.from([0x41])); } }
        } else {
          const take = BigInt(chunk.length - off);
          got += take; off = chunk.length;
          if (got >= want) sock.end(Buffer.from([0x41]));
        }
      }
    });
    sock.on('close', () => { clearTimeout(timer); process.exit(0); });
    sock.on('error', () => process.exit(1));
  });
  server.listen(port, host);
} else if (cmd === 'send') {
  const bytes = Number(opt('bytes', '4000000'));
  const pings = Math.min(Number(opt('pings', '20')), 1000);
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > 1e9) { console.error('nettest: --bytes must be 0..1e9'); process.exit(2); }
  let tries = 0;
  const connect = () => {
    const sock = net.connect({ host, port }, () => run(sock));
    sock.setNoDelay(true);
    sock.on('error', (e) => {
      if (++tries < 20) setTimeout(connect, 100); else { console.error(`nettest send: ${e.message}`); process.exit(1); }
    });
  };
  const run = (sock) => {
    const rtts = [];
    let t0 = 0;
    let phase = 'ping';
    let sent = 0;
    const ping = () => { t0 = performance.now(); sock.write(Buffer.from([0x50])); };
    sock.on('data', (d) => {
      for (const c of d) {
        if (phase === 'ping' && c === 0x50) {
          rtts.push(performance.now() - t0);
          if (rtts.length < pings) ping(); else startData();
        } else if (phase === 'data' && c === 0x41) {
          const seconds = (performance.now() - t0) / 1000;
          rtts.sort((a, b) => a - b);
          const rttMs = rtts.length ? rtts[Math.floor(rtts.length / 2)] : 0;
          console.log(JSON.stringify({ bytes, seconds, mbps: bytes ? (bytes * 8) / seconds / 1e6 : 0, rttMs }));
          clearTimeout(timer);
          sock.destroy();
          process.exit(0);
        }
      }
    });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const startData = () => {
      phase = 'data';
      const hdr = Buffer.alloc(9); hdr[0] = 0x44; hdr.writeBigUInt64LE(BigInt(bytes), 1);
      t0 = performance.now();
      sock.write(hdr);
      const pump = () => {
        while (sent < bytes) {
          const n = Math.min(chunk.length, bytes - sent);
          sent += n;
          if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { sock.once('drain', pump); return; }
        }
      };
      pump();
    };
    if (pings > 0) ping(); else startData();
  };
  connect();
} else {
  console.error('usage: nettest.mjs serve|send --host H --port P [--bytes B] [--pings N] [--timeout-s T]');
  process.exit(2);
}
