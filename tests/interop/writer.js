#!/usr/bin/env node
'use strict'
// writer.js: publishes N messages with the nsqjs Writer and checks that
// nsqd acknowledged every one.  Bodies are unique: PREFIX + the index,
// zero-padded to 6 digits ("m-000001" ...).  Messages go out in blocks of
// --batch; with --mode mixed (the default) even blocks are sent as single
// PUBs and odd blocks as one MPUB, so half of them travel each way.
// At most --window commands (default 1000) are awaiting their reply at any
// time.
//
// With --expect-error CODE the run succeeds only if nsqd refused every
// message and the first refusal carries CODE (e.g. E_BAD_TOPIC), or
// refused the connection before it was ready with CODE (E_AUTH_FAILED):
// the point is that a bad request gets an error back rather than a hang.
// --window defaults to 1 then.
//
// Prints: summary: published=N acked=A failed=F first_error=... result=...

const {parseArgs, Finisher, errorCode, loadNsq} = require('./common')

const USAGE = `usage: writer.js --port PORT --topic TOPIC [--host H] [--count N]
    [--batch B] [--mode mixed|pub|mpub] [--prefix P] [--start K]
    [--window W] [--expect-error CODE] [--timeout SEC] [--deflate | --snappy]
    [--tls-ca FILE] [--auth-secret S]`

const opts = parseArgs(
  process.argv.slice(2),
  {
    host: {type: 'str', def: '127.0.0.1'},
    port: {type: 'int', required: true},
    topic: {type: 'str', required: true},
    count: {type: 'int', def: 1},
    batch: {type: 'int', def: 100},
    mode: {type: 'str', def: 'mixed'},
    prefix: {type: 'str', def: 'm-'},
    start: {type: 'int', def: 1},
    window: {type: 'int'},
    'expect-error': {type: 'str'},
    timeout: {type: 'int', def: 60},
    deflate: {type: 'bool', def: false},
    snappy: {type: 'bool', def: false},
    'tls-ca': {type: 'str'},
    'auth-secret': {type: 'str'},
  },
  USAGE
)
if (!['mixed', 'pub', 'mpub'].includes(opts.mode)) {
  process.stderr.write(`bad --mode ${opts.mode}\n${USAGE}\n`)
  process.exit(2)
}
// Several commands in flight at a server that closes on the first error
// race with it (the client may see EPIPE or a reset before the error
// frame), so --expect-error sends one command at a time.
if (opts.window === null) opts.window = opts.expectError ? 1 : 1000
if (opts.count < 1 || opts.batch < 1 || opts.window < 1) {
  process.stderr.write(`--count, --batch and --window must be >= 1\n`)
  process.exit(2)
}

const nsq = loadNsq()

const st = {
  published: 0, // messages handed to nsqjs
  acked: 0, // messages whose command got OK
  failed: 0, // messages whose command got an error
  pubCmds: 0,
  mpubCmds: 0,
  firstError: '',
}
let inflight = 0 // commands awaiting a reply
let next = 0 // index (0-based) of the next message to publish
let block = 0 // blocks begun so far
let blockEnd = 0 // end (exclusive) of the current block
let blockMpub = false // whether the current block goes as one MPUB
let ready = false
let pumpScheduled = false

const wconfig = {deflate: opts.deflate, snappy: opts.snappy}
// --tls-ca: TLS, verified against that CA (the nsqd's name: localhost).
if (opts.tlsCa) {
  wconfig.tls = true
  wconfig.tlsVerification = true
  wconfig.ca = require('fs').readFileSync(opts.tlsCa)
}
// --auth-secret: AUTH with it after IDENTIFY (and TLS), nsqjs's authSecret.
if (opts.authSecret !== null) wconfig.authSecret = opts.authSecret
const writer = new nsq.Writer(opts.host, opts.port, wconfig)

const fin = new Finisher(
  'writer',
  opts.timeout,
  () => ({
    published: st.published,
    acked: st.acked,
    failed: st.failed,
    pub_cmds: st.pubCmds,
    mpub_cmds: st.mpubCmds,
    first_error: st.firstError,
  }),
  () => {
    if (writer.conn) writer.close()
  }
)

function bodyOf(i) {
  return opts.prefix + String(opts.start + i).padStart(6, '0')
}

function settle(n, err) {
  inflight--
  if (err) {
    st.failed += n
    if (!st.firstError) st.firstError = String(err.message || err)
  } else {
    st.acked += n
  }
  check()
  schedulePump()
}

function check() {
  if (fin.done || st.acked + st.failed < opts.count) return
  if (opts.expectError) {
    const code = errorCode(st.firstError)
    const ok = st.failed === opts.count && code === opts.expectError
    if (!ok) {
      process.stderr.write(
        `writer: expected every message refused with ${opts.expectError}` +
          `, got acked=${st.acked} first error ${st.firstError}\n`
      )
    }
    fin.finish(ok ? 'ok' : 'fail')
  } else {
    fin.finish(st.acked === opts.count ? 'ok' : 'fail')
  }
}

function send(bodies) {
  const n = bodies.length
  let called = false
  inflight++
  st.published += n
  writer.publish(opts.topic, n === 1 ? bodies[0] : bodies, (err) => {
    // nsqjs may call a callback twice when a connection fails.
    if (called) return
    called = true
    settle(n, err)
  })
}

function schedulePump() {
  if (pumpScheduled || fin.done) return
  pumpScheduled = true
  setImmediate(() => {
    pumpScheduled = false
    pump()
  })
}

function pump() {
  while (!fin.done && next < opts.count && inflight < opts.window) {
    if (next >= blockEnd) {
      blockMpub =
        opts.mode === 'mpub' || (opts.mode === 'mixed' && block % 2 === 1)
      blockEnd = Math.min(next + opts.batch, opts.count)
      block++
    }
    if (blockMpub) {
      const bodies = []
      for (let i = next; i < blockEnd; i++) bodies.push(bodyOf(i))
      st.mpubCmds++
      send(bodies)
      next = blockEnd
    } else {
      st.pubCmds++
      send([bodyOf(next)])
      next++
    }
  }
}

writer.on('ready', () => {
  ready = true
  pump()
})
writer.on('error', (err) => {
  process.stderr.write(`writer: error event: ${err}\n`)
  if (!ready && !fin.done) {
    // Refused before ready (E_AUTH_FAILED for a bad --auth-secret):
    // with --expect-error that code is the expected outcome.
    st.firstError = String(err.message || err)
    const ok = opts.expectError && errorCode(st.firstError) === opts.expectError
    fin.finish(ok ? 'ok' : 'fail')
  }
  schedulePump()
})
writer.on('closed', () => {
  if (!fin.done) process.stderr.write('writer: connection closed\n')
  schedulePump()
})
writer.connect()
