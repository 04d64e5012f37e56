#!/usr/bin/env node
'use strict'
// reader.js: consumes a topic/channel with the nsqjs Reader until it has
// seen --count distinct bodies (or the deadline passes), FINishing every
// message it gets.  It then keeps listening for --linger-ms to catch late
// duplicates or extra messages.
//
// Prints "subscribed topic=T channel=C" once its first nsqd connection is
// subscribed (so a test can publish only after that), then
//   summary: expected=N distinct=D duplicates=U redelivered=R errors=E
//            closes=C result=ok|fail|timeout
// Success means exactly N distinct bodies, no error events (unless
// --allow-errors, for tests that restart nsqd under the reader), and with
// --no-dups also no body seen twice.

const {parseArgs, nsqdAddresses, Finisher, loadNsq} = require('./common')

const USAGE = `usage: reader.js --topic T --channel C --count N
    (--port PORT [--host H] | --nsqd H:P,H:P | --lookupd H:P,...)
    [--max-in-flight 200] [--no-dups] [--linger-ms MS] [--msg-timeout MS]
    [--allow-errors] [--timeout SEC] [--verbose] [--deflate | --snappy]
    [--tls-ca FILE] [--auth-secret S]`

const opts = parseArgs(
  process.argv.slice(2),
  {
    host: {type: 'str', def: '127.0.0.1'},
    port: {type: 'int'},
    nsqd: {type: 'list', def: []},
    lookupd: {type: 'list', def: []},
    topic: {type: 'str', required: true},
    channel: {type: 'str', required: true},
    count: {type: 'int', required: true},
    'max-in-flight': {type: 'int', def: 200},
    'no-dups': {type: 'bool', def: false},
    'linger-ms': {type: 'int', def: 0},
    'msg-timeout': {type: 'int'},
    'allow-errors': {type: 'bool', def: false},
    timeout: {type: 'int', def: 120},
    verbose: {type: 'bool', def: false},
    deflate: {type: 'bool', def: false},
    snappy: {type: 'bool', def: false},
    'tls-ca': {type: 'str'},
    'auth-secret': {type: 'str'},
  },
  USAGE
)
const addrs = nsqdAddresses(opts)
if (addrs.length === 0 && opts.lookupd.length === 0) {
  process.stderr.write(`reader.js: give --port, --nsqd or --lookupd\n${USAGE}\n`)
  process.exit(2)
}

const nsq = loadNsq()

const seen = new Map() // body -> times seen
const st = {distinct: 0, duplicates: 0, redelivered: 0, errors: 0, closes: 0}
let lingering = false

const config = {
  maxInFlight: opts.maxInFlight,
  lookupdPollInterval: 1, // also the reconnect interval for --nsqd
}
if (addrs.length > 0) config.nsqdTCPAddresses = addrs
if (opts.lookupd.length > 0) config.lookupdHTTPAddresses = opts.lookupd
if (opts.msgTimeout !== null) config.messageTimeout = opts.msgTimeout
if (opts.deflate) config.deflate = true
if (opts.snappy) config.snappy = true
// --tls-ca: TLS, verified against that CA (the nsqd's name: localhost).
if (opts.tlsCa) {
  config.tls = true
  config.tlsVerification = true
  config.ca = require('fs').readFileSync(opts.tlsCa)
}
// --auth-secret: AUTH with it after IDENTIFY (and TLS), nsqjs's authSecret.
if (opts.authSecret !== null) config.authSecret = opts.authSecret

const reader = new nsq.Reader(opts.topic, opts.channel, config)

function verdict() {
  if (st.distinct !== opts.count) return 'fail'
  if (st.errors > 0 && !opts.allowErrors) return 'fail'
  if (opts.noDups && st.duplicates > 0) return 'fail'
  return 'ok'
}

const fin = new Finisher(
  'reader',
  opts.timeout,
  () => ({
    expected: opts.count,
    distinct: st.distinct,
    duplicates: st.duplicates,
    redelivered: st.redelivered,
    errors: st.errors,
    closes: st.closes,
  }),
  () => reader.close()
)

reader.on('ready', () => {
  process.stdout.write(
    `subscribed topic=${opts.topic} channel=${opts.channel}\n`
  )
})

reader.on('message', (msg) => {
  const body = msg.body.toString()
  const n = (seen.get(body) || 0) + 1
  seen.set(body, n)
  if (n === 1) {
    st.distinct++
  } else {
    st.duplicates++
    if (opts.verbose || st.duplicates <= 5) {
      process.stderr.write(
        `reader: duplicate ${body} (seen ${n} times, attempts ${msg.attempts})\n`
      )
    }
  }
  if (msg.attempts > 1) st.redelivered++
  msg.finish()
  if (st.distinct > opts.count && st.distinct - opts.count <= 5) {
    process.stderr.write(`reader: extra message ${body}\n`)
  }
  if (st.distinct >= opts.count && !lingering) {
    lingering = true
    setTimeout(() => fin.finish(verdict()), opts.lingerMs)
  }
})

reader.on('error', (err) => {
  st.errors++
  if (st.errors <= 10) process.stderr.write(`reader: error event: ${err}\n`)
  if (st.errors === 11) process.stderr.write(`reader: more errors...\n`)
})

reader.on('nsqd_closed', (host, port) => {
  if (fin.done) return
  st.closes++
  process.stderr.write(`reader: connection to ${host}:${port} closed\n`)
})

reader.connect()
