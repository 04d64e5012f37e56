#!/usr/bin/env python3
"""The start-up audit: no option is accepted and ignored.

tests/OPTIONS.audit maps every option each program's --help lists to the
evidence that it does something, one line an option:

    PROGRAM  --option  FILE: TEST NAME      a test that observes its effect
    PROGRAM  --option  refused: ARGS...     the program refuses it (exit 2)

A test named as evidence must exist (FILE under tests/, `@test "NAME"`),
run the program (named in its body, its file's name or the file's
set-up), and use the
option (as --option, -option, or its config-file key, option_with_
underscores): a row cannot point at a test that never sets it.
A refused row is run: the program with ARGS must exit 2 and name the
option on stderr.  Every option of --help needs at least one row, and every
row an option of --help, so the table follows the programs.

    options_audit.py check BINDIR PROGRAM    one program (exit 1 on a gap)
    options_audit.py suggest BINDIR          rows for unmapped options
"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), '..'))
TABLE = os.path.join(ROOT, 'tests', 'OPTIONS.audit')
OPT_LINE = re.compile(r'^\s+(?:-[A-Za-z0-9], )?(--[a-z0-9][a-z0-9-]*)')


def help_options(bindir, prog):
    out = subprocess.run([os.path.join(bindir, prog), '--help'],
                         capture_output=True, text=True, timeout=30)
    opts = []
    for line in (out.stdout + out.stderr).splitlines():
        m = OPT_LINE.match(line)
        if m and m.group(1) not in opts and m.group(1) != '--help':
            opts.append(m.group(1))
    return opts


def rows():
    with open(TABLE) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            parts = line.split(None, 2)
            if len(parts) != 3:
                raise SystemExit('%s:%d: want PROGRAM --option EVIDENCE'
                                 % (TABLE, n))
            yield n, parts[0], parts[1], parts[2]


_bodies = {}


def test_bodies(path):
    """{name: body} of the @test blocks of a bats file."""
    if path in _bodies:
        return _bodies[path]
    tests, name, body = {}, None, []
    with open(path) as f:
        for line in f:
            m = re.match(r'^@test "(.*)" \{\s*$', line)
            if m:
                name, body = m.group(1), []
                continue
            if name is not None:
                if line.startswith('}'):
                    tests[name] = ''.join(body)
                    name = None
                else:
                    body.append(line)
    _bodies[path] = tests
    return tests


def uses(body, opt):
    bare = opt[2:]
    key = bare.replace('-', '_')
    pat = r'(?<![A-Za-z0-9_-])(--?%s(?![A-Za-z0-9-])|%s\b)' % (
        re.escape(bare), re.escape(key))
    return re.search(pat, body) is not None


def runs(body, f, prog):
    """Whether a test (its body, its file's name) runs program prog."""
    if 'start_%s' % prog in body or re.search(
            r'(?<![A-Za-z0-9_-])%s(?![A-Za-z0-9_-])' % re.escape(prog), body):
        return True
    if os.path.basename(f).startswith(prog):
        return True
    # Through a variable or helper the file sets up ($PUB, roundtrip).
    path = os.path.join(ROOT, 'tests', f)
    if re.search(r'(?<![A-Za-z0-9_-])%s(?![A-Za-z0-9_-])' % re.escape(prog),
                 open(path).read()):
        return True
    # A test over every program (--version, --help).
    return '"$NSQ_BIN_DIR"/*' in body


def check_row(bindir, prog, opt, ev):
    if ev.startswith('refused:'):
        args = ev[len('refused:'):].split()
        r = subprocess.run([os.path.join(bindir, prog)] + args,
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 2:
            return 'refused row: %s %s exited %d, not 2' % (
                prog, ' '.join(args), r.returncode)
        if opt not in r.stderr and opt[2:] not in r.stderr:
            return 'refused row: %s %s: stderr does not name %s: %r' % (
                prog, ' '.join(args), opt, r.stderr[:200])
        return None
    if ':' not in ev:
        return 'evidence %r is neither "FILE: TEST" nor "refused: ARGS"' % ev
    f, name = ev.split(':', 1)
    name = name.strip()
    path = os.path.join(ROOT, 'tests', f.strip())
    if not os.path.exists(path):
        return 'no test file %s' % path
    body = test_bodies(path).get(name)
    if body is None:
        return 'no @test "%s" in %s' % (name, f)
    if not uses(body, opt):
        return '@test "%s" (%s) never uses %s' % (name, f, opt)
    if not runs(body, f, prog):
        return '@test "%s" (%s) never runs %s' % (name, f, prog)
    return None


def check(bindir, prog):
    opts = help_options(bindir, prog)
    if not opts:
        print('%s --help lists no options' % prog)
        return 1
    seen, bad = set(), 0
    for n, p, opt, ev in rows():
        if p != prog:
            continue
        if opt not in opts:
            print('OPTIONS.audit:%d: %s has no %s in --help' % (n, p, opt))
            bad += 1
            continue
        why = check_row(bindir, prog, opt, ev)
        if why:
            print('OPTIONS.audit:%d: %s %s: %s' % (n, p, opt, why))
            bad += 1
        else:
            seen.add(opt)
    for opt in opts:
        if opt not in seen:
            print('%s %s: no evidence in tests/OPTIONS.audit (a test that '
                  'observes it, or refused)' % (prog, opt))
            bad += 1
    print('%s: %d options, %d with evidence' % (prog, len(opts), len(seen)))
    return 1 if bad else 0


def suggest(bindir):
    mapped = {(p, o) for _, p, o, _ in rows()}
    files = []
    for d in ('bats', 'interop', 'browser'):
        dd = os.path.join(ROOT, 'tests', d)
        if os.path.isdir(dd):
            files += sorted(os.path.join(d, x) for x in os.listdir(dd)
                            if x.endswith('.bats'))
    for prog in sorted(os.listdir(bindir)):
        if not os.access(os.path.join(bindir, prog), os.X_OK):
            continue
        for opt in help_options(bindir, prog):
            if (prog, opt) in mapped:
                continue
            found = None
            # Prefer the program's own files, then any.
            own = [f for f in files if prog in os.path.basename(f)]
            for f in own + [f for f in files if f not in own]:
                for name, body in test_bodies(
                        os.path.join(ROOT, 'tests', f)).items():
                    if runs(body, f, prog) and uses(body, opt):
                        found = '%s: %s' % (f, name)
                        break
                if found:
                    break
            print('%-12s %-36s %s' % (prog, opt, found or 'MISSING'))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'check':
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == 'suggest':
        suggest(sys.argv[2])
        return
    sys.exit(__doc__)


if __name__ == '__main__':
    main()
