#!/usr/bin/env node
'use strict';
// A raw HTTP client for the doubles' conformance tests: sends exactly the
// bytes it is given, in steps, and reports how the server ended the
// connection, for what curl cannot show (pipelining, malformed framing, when
// 100 Continue comes, a reset versus a clean close).
//
//   node raw-client.js --port P [--tls-ca F [--cert F --key F]] [--out FILE]
//        [--timeout-ms N] STEP...
//   STEP: send=FILE    write FILE's bytes
//         await=TEXT   wait until what was received contains TEXT (or the connection ends)
//         shut         half-close (FIN) our side
//
// After the steps it reads until the server closes or --timeout-ms (5000)
// passes, writes everything received to --out (default: stdout) and prints
// (to stderr without --out, else stdout) how the connection ended: "fin" (closed cleanly),
// "reset" (ECONNRESET) or "open" (still open at the timeout).

const net = require('net');
const tls = require('tls');
const fs = require('fs');

function parse(argv) {
  const o = { port: 0, tlsCa: null, cert: null, key: null, out: null, timeoutMs: 5000, steps: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === '--port') o.port = Number(val());
    else if (a === '--tls-ca') o.tlsCa = val();
    else if (a === '--cert') o.cert = val();
    else if (a === '--key') o.key = val();
    else if (a === '--out') o.out = val();
    else if (a === '--timeout-ms') o.timeoutMs = Number(val());
    else if (a === 'shut') o.steps.push({ kind: 'shut' });
    else if (a.startsWith('send=')) o.steps.push({ kind: 'send', data: fs.readFileSync(a.slice(5)) });
    else if (a.startsWith('await=')) o.steps.push({ kind: 'await', text: a.slice(6) });
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.port) throw new Error('--port is required');
  return o;
}

function main() {
  const o = parse(process.argv.slice(2));
  const chunks = [];
  let ended = null;
  let waiter = null;
  const received = () => Buffer.concat(chunks).toString('latin1');
  const socket = o.tlsCa
    ? tls.connect({ host: '127.0.0.1', port: o.port, servername: 'localhost', ca: fs.readFileSync(o.tlsCa), cert: o.cert ? fs.readFileSync(o.cert) : undefined, key: o.key ? fs.readFileSync(o.key) : undefined })
    : net.connect({ host: '127.0.0.1', port: o.port });
  const poke = () => { if (waiter) waiter(); };
  socket.on('data', (d) => { chunks.push(d); poke(); });
  socket.on('error', (e) => { if (!ended) ended = e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : `error ${e.code || e.message}`; poke(); });
  socket.on('close', () => { if (!ended) ended = 'fin'; poke(); });
  const until = (cond) => new Promise((resolve) => {
    const t = setTimeout(() => { waiter = null; resolve(); }, o.timeoutMs);
    waiter = () => { if (cond()) { clearTimeout(t); waiter = null; resolve(); } };
    waiter();
  });
  const finish = () => {
    const data = Buffer.concat(chunks);
    if (o.out) { fs.writeFileSync(o.out, data); process.stdout.write(`${ended || 'open'}\n`); }
    else { process.stdout.write(data); process.stderr.write(`${ended || 'open'}\n`); }
    socket.destroy();
    process.exit(0);
  };
  let connected = false;
  socket.once('close', () => { if (!connected) finish(); }); // could not connect (or handshake refused)
  socket.once(o.tlsCa ? 'secureConnect' : 'connect', async () => {
    connected = true;
    for (const s of o.steps) {
      if (ended) break;
      if (s.kind === 'send') socket.write(s.data);
      else if (s.kind === 'shut') socket.end();
      else if (s.kind === 'await') await until(() => ended || received().includes(s.text));
    }
    await until(() => ended);
    finish();
  });
}

main();
