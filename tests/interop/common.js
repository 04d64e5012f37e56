'use strict'
// Shared parts of the interop CLIs (writer.js, reader.js, req-touch.js):
// option parsing, the overall deadline that keeps a script from ever
// hanging, and the one machine-checkable summary line each prints last:
//
//   summary: key=value key=value ... result=ok|fail|timeout
//
// Exit status: 0 ok, 1 a check failed, 2 usage error, 3 deadline passed.

const EXIT_OK = 0
const EXIT_FAIL = 1
const EXIT_USAGE = 2
const EXIT_TIMEOUT = 3

// parseArgs(argv, spec, usage): spec maps option names (without --) to
// {type: 'int'|'str'|'bool'|'list', def: default, required: bool}.
// Accepts --name value and --name=value; bool options take no value.
// Returns an object keyed by camelCase names.
function parseArgs(argv, spec, usage) {
  const out = {}
  const die = (msg) => {
    process.stderr.write(`${msg}\n${usage}\n`)
    process.exit(EXIT_USAGE)
  }
  const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase())
  for (const [name, o] of Object.entries(spec)) {
    out[camel(name)] = o.def === undefined ? null : o.def
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${usage}\n`)
      process.exit(EXIT_OK)
    }
    if (!arg.startsWith('--')) die(`unexpected argument: ${arg}`)
    arg = arg.slice(2)
    let val = null
    const eq = arg.indexOf('=')
    if (eq >= 0) {
      val = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    const o = spec[arg]
    if (!o) die(`unknown option --${arg}`)
    if (o.type === 'bool') {
      if (val !== null) die(`--${arg} takes no value`)
      out[camel(arg)] = true
      continue
    }
    if (val === null) {
      if (i + 1 >= argv.length) die(`--${arg} needs a value`)
      val = argv[++i]
    }
    if (o.type === 'int') {
      if (!/^-?[0-9]+$/.test(val)) die(`--${arg}: not an integer: ${val}`)
      out[camel(arg)] = parseInt(val, 10)
    } else if (o.type === 'list') {
      out[camel(arg)] = val.split(',').filter((s) => s.length > 0)
    } else {
      out[camel(arg)] = val
    }
  }
  for (const [name, o] of Object.entries(spec)) {
    if (o.required && out[camel(name)] === null) die(`--${name} is required`)
  }
  return out
}

// nsqdAddresses(opts): the --nsqd list, or --host:--port.
function nsqdAddresses(opts) {
  if (opts.nsqd && opts.nsqd.length > 0) return opts.nsqd
  if (opts.port === null) return []
  return [`${opts.host}:${opts.port}`]
}

// fmt(value): a summary value, quoted (JSON) when it has spaces or quotes.
function fmt(v) {
  const s = String(v)
  return /^[^\s"'=]*$/.test(s) && s.length > 0 ? s : JSON.stringify(s)
}

// Finisher: prints the summary once and exits after `graceMs`, so writes
// already queued (FIN, CLS) leave the process first.  The overall
// deadline calls the same path with result=timeout.
class Finisher {
  constructor(name, timeoutSec, summaryFn, onFinish) {
    this.name = name
    this.done = false
    this.summaryFn = summaryFn
    this.onFinish = onFinish
    this.deadline = setTimeout(() => {
      process.stderr.write(`${name}: deadline of ${timeoutSec}s passed\n`)
      this.finish('timeout')
    }, timeoutSec * 1000)
  }

  finish(result, graceMs = 300) {
    if (this.done) return
    this.done = true
    finished = true
    clearTimeout(this.deadline)
    // Closing is deferred: finish() may run inside an nsqjs callback that
    // is itself inside a connection state change, and nsqjs breaks if the
    // connection is closed under its feet there.
    setImmediate(() => {
      try {
        if (this.onFinish) this.onFinish()
      } catch (e) {
        process.stderr.write(`${this.name}: while closing: ${e}\n`)
      }
    })
    const fields = Object.entries(this.summaryFn())
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' ')
    process.stdout.write(`summary: ${fields} result=${result}\n`)
    const code =
      result === 'ok' ? EXIT_OK : result === 'timeout' ? EXIT_TIMEOUT : EXIT_FAIL
    setTimeout(() => process.exit(code), graceMs)
  }
}

// errorCode(err): the E_* code of an nsqd error ("Error: E_BAD_TOPIC ..."
// or "E_BAD_TOPIC ..."), else the whole message.
function errorCode(err) {
  const s = err && err.message !== undefined ? err.message : String(err)
  const m = /\b(E_[A-Z_]+)\b/.exec(s)
  return m ? m[1] : s
}

function loadNsq() {
  try {
    return require('nsqjs')
  } catch (e) {
    process.stderr.write(
      'cannot load nsqjs: run `npm ci` in tests/interop ' +
        `(scripts/deps.sh test does it): ${e.message}\n`
    )
    process.exit(EXIT_USAGE)
  }
}

// Set once a summary is out: a later exception (nsqjs tearing down) is
// reported but does not print a second summary.
let finished = false

function crash(what, e) {
  process.stderr.write(`${what}: ${e && e.stack ? e.stack : e}\n`)
  if (finished) return
  finished = true
  process.stdout.write(`summary: result=fail\n`)
  process.exit(EXIT_FAIL)
}
process.on('uncaughtException', (e) => crash('uncaught exception', e))
process.on('unhandledRejection', (e) => crash('unhandled rejection', e))

module.exports = {
  parseArgs,
  nsqdAddresses,
  Finisher,
  errorCode,
  loadNsq,
  EXIT_OK,
  EXIT_FAIL,
  EXIT_USAGE,
  EXIT_TIMEOUT,
}
