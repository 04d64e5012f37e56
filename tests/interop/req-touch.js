#!/usr/bin/env node
'use strict'
// req-touch.js: checks TOUCH and REQ through the nsqjs Reader.
//
// On the first delivery of each message (attempts 1) it TOUCHes it, holds
// it for --hold-ms while TOUCHing every --touch-ms, then REQueues it with
// a delay of --requeue-ms (without nsqjs backoff).  On the second delivery
// (attempts 2) it FINishes it.  With --msg-timeout shorter than --hold-ms
// the message would time out and come back while still held unless nsqd
// honours TOUCH; that, an early return before the REQ delay, an attempts
// value other than 1 then 2, and any error event (E_TOUCH_FAILED,
// E_REQ_FAILED, E_FIN_FAILED...) are violations.
//
// Prints "subscribed topic=T channel=C", then
//   summary: expected=N first=F second=S touches=T violations=V errors=E
//            result=ok|fail|timeout
// Success: every one of N messages came back with attempts 2 and was
// FINished, with no violation and no error.

const {parseArgs, nsqdAddresses, Finisher, loadNsq} = require('./common')

const USAGE = `usage: req-touch.js --topic T --channel C --count N
    (--port PORT [--host H] | --nsqd H:P,...) [--msg-timeout MS]
    [--hold-ms MS] [--touch-ms MS] [--requeue-ms MS] [--max-in-flight K]
    [--linger-ms MS] [--timeout SEC]`

const opts = parseArgs(
  process.argv.slice(2),
  {
    host: {type: 'str', def: '127.0.0.1'},
    port: {type: 'int'},
    nsqd: {type: 'list', def: []},
    topic: {type: 'str', required: true},
    channel: {type: 'str', required: true},
    count: {type: 'int', required: true},
    'msg-timeout': {type: 'int'},
    'hold-ms': {type: 'int', def: 0},
    'touch-ms': {type: 'int', def: 0},
    'requeue-ms': {type: 'int', def: 0},
    'max-in-flight': {type: 'int', def: 200},
    'linger-ms': {type: 'int', def: 0},
    timeout: {type: 'int', def: 120},
  },
  USAGE
)
const addrs = nsqdAddresses(opts)
if (addrs.length === 0) {
  process.stderr.write(`req-touch.js: give --port or --nsqd\n${USAGE}\n`)
  process.exit(2)
}

const nsq = loadNsq()

const recs = new Map() // body -> {held, requeuedAt, done, timers}
const st = {first: 0, second: 0, touches: 0, violations: 0, errors: 0}
let lingering = false

const config = {
  maxInFlight: opts.maxInFlight,
  nsqdTCPAddresses: addrs,
  lookupdPollInterval: 1,
}
if (opts.msgTimeout !== null) config.messageTimeout = opts.msgTimeout

const reader = new nsq.Reader(opts.topic, opts.channel, config)

const fin = new Finisher(
  'req-touch',
  opts.timeout,
  () => ({
    expected: opts.count,
    first: st.first,
    second: st.second,
    touches: st.touches,
    violations: st.violations,
    errors: st.errors,
  }),
  () => {
    for (const r of recs.values()) {
      clearInterval(r.iv)
      clearTimeout(r.to)
    }
    reader.close()
  }
)

function violation(text) {
  st.violations++
  if (st.violations <= 10) process.stderr.write(`req-touch: ${text}\n`)
}

function requeue(msg, r) {
  clearInterval(r.iv)
  r.held = false
  r.requeuedAt = Date.now()
  msg.requeue(opts.requeueMs, false)
}

function touch(msg) {
  st.touches++
  msg.touch()
}

reader.on('ready', () => {
  process.stdout.write(
    `subscribed topic=${opts.topic} channel=${opts.channel}\n`
  )
})

reader.on('message', (msg) => {
  const body = msg.body.toString()
  const a = msg.attempts
  let r = recs.get(body)
  if (a === 1) {
    if (r) {
      violation(`${body}: delivered with attempts 1 twice`)
      msg.finish()
      return
    }
    r = {held: true, requeuedAt: 0, done: false, iv: null, to: null}
    recs.set(body, r)
    st.first++
    touch(msg)
    if (opts.holdMs > 0) {
      if (opts.touchMs > 0) {
        r.iv = setInterval(() => touch(msg), opts.touchMs)
      }
      r.to = setTimeout(() => requeue(msg, r), opts.holdMs)
    } else {
      requeue(msg, r)
    }
    return
  }
  if (a !== 2) {
    violation(`${body}: delivered with attempts ${a}`)
    msg.finish()
    return
  }
  if (!r) {
    violation(`${body}: attempts 2 without a first delivery`)
  } else if (r.held) {
    violation(`${body}: came back while still held (TOUCH not honoured?)`)
  } else if (Date.now() - r.requeuedAt < opts.requeueMs - 5) {
    violation(
      `${body}: came back ${Date.now() - r.requeuedAt} ms after ` +
        `REQ with delay ${opts.requeueMs} ms`
    )
  }
  if (r && r.done) {
    violation(`${body}: delivered with attempts 2 twice`)
  } else {
    if (r) r.done = true
    st.second++
  }
  msg.finish()
  if (st.second >= opts.count && !lingering) {
    lingering = true
    setTimeout(() => {
      const ok =
        st.first === opts.count &&
        st.second === opts.count &&
        st.violations === 0 &&
        st.errors === 0
      fin.finish(ok ? 'ok' : 'fail')
    }, opts.lingerMs)
  }
})

reader.on('error', (err) => {
  st.errors++
  if (st.errors <= 10) process.stderr.write(`req-touch: error event: ${err}\n`)
  if (st.errors === 11) process.stderr.write(`req-touch: more errors...\n`)
})

reader.on('nsqd_closed', (host, port) => {
  if (!fin.done) {
    process.stderr.write(`req-touch: connection to ${host}:${port} closed\n`)
  }
})

reader.connect()
