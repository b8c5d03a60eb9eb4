"""The real-programs battery's case list (read by tests/programs/battery).

A Program names the Debian packages that ship it (scripts/install-deps installs
them), the modules its image freezes, its fixtures (directories under
fixtures/, each with cwd/, home/ and home-nobody/ parts copied into the run's
working directory, root's HOME and nobody's HOME) and its cases.

A Case is one command line, written after the interpreter: the battery runs
`/usr/bin/python3.11 ARGV...` and then `IMAGE ARGV...`.  Its options:
  stdin=BYTES        stdin is a pipe carrying BYTES (default /dev/null)
  tty=True           stdin, stdout and stderr are one pseudo-terminal, 80x24,
                     TERM=xterm-256color; the transcript is compared
  broken_pipe=N      stdout's read end is closed before the start (0, `| true`)
                     or after N bytes (`| head -c N`)
  user='nobody'      runs with nobody's uid and gid, HOME=<run>/home-nobody
  env={...}          extra environment variables (both runs)
  files={...}        extra files in the working directory
  setup=[ARGV...]    commands run with stock python3.11 before each of the two runs
                     (same user and environment); their output is not compared
  source_ok=[...]    modules (fnmatch patterns) allowed to run from source in the
                     image, because the case changes an input of the freeze on
                     purpose; `why` says which
  cold_ok=PATTERN    the image may step aside to a cold start for a reason
                     matching PATTERN (fnmatch, on the text after "cold start: "):
                     a module that changed shared state at import would have to
                     run from source; `why` says which input changed
  normalise={...}    stream ('stdout', 'stderr', 'terminal') or file (fnmatch on
                     the path under the run directory: cwd/..., home/...,
                     home-nobody/...) -> function(bytes) -> bytes, applied to both
                     sides; each one narrow and documented (a timestamp)
  covers={...}       what the case exercises, from COVERAGE (for --list)
"""
import json
import os
import pickle
import re
import shlex

COVERAGE = ('defaults',    # argument defaults bound at import (def main(args=sys.argv))
            'streams',     # standard streams captured at import
            'home',        # paths derived from HOME at import
            'nobody',      # a second user
            'tty',         # a terminal
            'pipe',        # a broken pipe
            'stdin',       # input on stdin
            'files',       # files the program writes
            'exit',        # sys.exit() with a non-zero status
            'lazy')        # lazy-import frameworks


class Case:
    def __init__(self, argv, stdin=None, tty=False, broken_pipe=None, user='root', env=None,
                 files=None, setup=(), source_ok=(), why=None, normalise=None, covers=(),
                 cold_ok=None):
        self.argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        self.stdin = stdin.encode() if isinstance(stdin, str) else stdin
        self.tty = tty
        self.broken_pipe = broken_pipe
        self.user = user
        self.env = dict(env or {})
        self.files = dict(files or {})
        self.setup = [shlex.split(s) if isinstance(s, str) else list(s) for s in setup]
        self.source_ok = list(source_ok)
        self.cold_ok = cold_ok
        self.why = why
        self.normalise = dict(normalise or {})
        self.covers = set(covers)
        if tty:
            self.covers.add('tty')
        if user != 'root':
            self.covers.add('nobody')
        if stdin is not None:
            self.covers.add('stdin')
        if broken_pipe is not None:
            self.covers.add('pipe')
        assert not (tty and (stdin is not None or broken_pipe is not None))
        assert self.covers <= set(COVERAGE), self.covers - set(COVERAGE)
        assert not (self.source_ok or self.cold_ok) or self.why, \
            'say which input of the freeze the case changes'


class Program:
    def __init__(self, name, packages, freeze, cases, fixtures=(), generated=None):
        self.name = name
        self.packages = list(packages)
        self.cases = list(cases)
        # Frozen as runs of the script most of its cases run (pyfreeze
        # --for-script: sys.argv[0] and sys.path[0] as python3 gives them);
        # -m cases run from the freeze's working directory, as the freeze.
        scripts = [case.argv[0] for case in self.cases if case.argv[0].startswith('/')]
        script = max(set(scripts), key=scripts.count) if scripts else None
        self.freeze = (['--for-script', script] if script else []) + list(freeze)
        self.fixtures = list(fixtures) or [name]
        self.generated = dict(generated or {})     # cwd path -> function() -> bytes


# --- normalisations (each for one stream or file, each documented) ----------------

def diff_mtimes(data):
    '''Unified-diff headers carry the files' mtimes, and the rewritten side's is now.'''
    return re.sub(rb'^((?:\x1b\[[0-9;]*m)?(?:---|\+\+\+) [^\t\n]*)\t\d{4}-\d\d-\d\d '
                  rb'\d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})?', rb'\1\t<mtime>', data, flags=re.M)


def po_header(field):
    """A catalog header field set to the time of the run (POT-Creation-Date...)."""
    def normalise(data):
        return re.sub(rb'^"' + field.encode() + rb': [^\\"]*', b'"' + field.encode() + b': <now>',
                      data, flags=re.M)
    normalise.__doc__ = 'the %s header of a catalog is the time of the run' % field
    return normalise


def black_cache(data):
    """black's cache maps each formatted file to (mtime, size); the mtime is now."""
    cache = pickle.loads(data)
    return pickle.dumps({path: (0, size) for path, (mtime, size) in sorted(cache.items())},
                        protocol=4)


def mypy_meta(data):
    """mypy's *.meta.json: data_mtime is the time the data file was written, and which
    indirect dependencies (priority 30) a module records, and in which order, follows
    set iteration order (str hashes differ in every run)."""
    meta = json.loads(data)
    meta['data_mtime'] = 0
    deps = sorted(d for d in zip(meta['dependencies'], meta['dep_lines'], meta['dep_prios'])
                  if d[2] != 30)
    meta['dependencies'] = [d for d, _, _ in deps]
    meta['dep_lines'] = [l for _, l, _ in deps]
    meta['dep_prios'] = [p for _, _, p in deps]
    meta['suppressed'] = sorted(meta['suppressed'])
    return json.dumps(meta, sort_keys=True).encode()


def pickle_text(data):
    """A pickle as text, one opcode a line, without what depends on object identity: a
    string pickled twice or once and then fetched from the memo reads the same, memo
    slots are numbered over the other objects only, and frame lengths are dropped."""
    import pickletools
    strings = {'SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8', 'UNICODE'}
    lines, memo, slots, last = [], {}, 0, None
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name == 'FRAME':
            continue
        if name in ('MEMOIZE', 'PUT', 'BINPUT', 'LONG_BINPUT'):
            index = len(memo) if name == 'MEMOIZE' else arg
            if last is not None and last[0] in strings:
                memo[index] = ('str', last[1])
            else:
                memo[index] = ('obj', slots)
                slots += 1
            continue
        if name in ('GET', 'BINGET', 'LONG_BINGET'):
            kind, value = memo[arg]
            lines.append('STR %r' % (value,) if kind == 'str' else 'GET %d' % value)
            last = None
            continue
        if name in strings:
            lines.append('STR %r' % (arg,))
        else:
            lines.append(name if arg is None else '%s %r' % (name, arg))
        last = (name, arg)
    return ('\n'.join(lines) + '\n').encode()


def sphinx_environment(data):
    """Sphinx's environment.pickle: all_docs maps each document to the time it was read;
    compared as pickle_text, since whether a module name string is shared follows the
    run's object identities, with sets in sorted order (their order follows the hash
    secret)."""
    env = pickle.loads(data)                       # needs sphinx, as the program did
    env.all_docs = {doc: 0 for doc in env.all_docs}
    _sorted_sets(env.__dict__, set())
    return pickle_text(pickle.dumps(env, protocol=4))


def _sorted_sets(value, seen):
    """Rebuilds every set inside VALUE with its items inserted in sorted
    order: a pickled set lists its items in iteration order, which follows
    the str hash secret (random in each python3 run, fixed in an image)."""
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _sorted_sets(item, seen)
    elif isinstance(value, list):
        value[:] = [_sorted_sets(item, seen) for item in value]
    elif isinstance(value, (set, frozenset)):
        try:
            items = sorted(value)
        except TypeError:
            return value
        return type(value)(items)
    elif hasattr(value, '__dict__') and not isinstance(value, type):
        _sorted_sets(value.__dict__, seen)
    return value


def coverage_data(data):
    """coverage's SQLite data file, as SQL text; its meta row 'when' is the time of the run."""
    import sqlite3
    import tempfile
    with tempfile.NamedTemporaryFile(suffix='.sqlite') as f:
        f.write(data)
        f.flush()
        db = sqlite3.connect(f.name)
        try:
            dump = '\n'.join(db.iterdump())
        finally:
            db.close()
    return re.sub(r"""VALUES\('when','[^']*'\)""", "VALUES('when','<now>')", dump).encode()


def pytest_duration(data):
    """pytest's summary line ends with the run's duration."""
    return re.sub(rb' in \d+\.\d+s\b', b' in <duration>', data)


# --- the programs ------------------------------------------------------------------

def big_python():
    """A Python file large enough that pygmentize is still writing when `head` leaves."""
    with open(os.path.join(os.path.dirname(__file__), 'fixtures', 'python', 'cwd', 'bad.py'),
              'rb') as f:
        body = f.read()
    return body * 2000


HOME_WHY = "nobody's HOME differs from the freeze's (root's), and %s derives a path from it at import"
TTY_WHY = 'stdout is a terminal here and was a pipe at the freeze, and %s asks isatty() at import'
SPHINX_WHY = 'sphinx.cmd.build makes its defaults from sys.argv[1:] at import (main(argv=sys.argv[1:]))'
PIP_SOURCE = ['pip._vendor.pkg_resources*', 'pip._internal.metadata.pkg_resources',
              'pip._vendor.six', 'pip._vendor.six.*']
PIP_WHY = ("pip's __main__ takes the working directory out of sys.path before it imports"
           " pkg_resources, which builds its working set from sys.path at import (and"
           " changed the vendored six then)")
# ansible.constants creates ~/.ansible/tmp at import; each run here starts
# from a fresh copy of the fixture HOME without it (a user's HOME keeps it).
ANSIBLE_WHY = ('ansible.constants creates ~/.ansible/tmp at import, which the fresh HOME of the run'
               ' lacks, and most of ansible used it')
HG_SOURCE = ['mercurial', 'mercurial.*', 'hgext', 'hgext.*']
MESON_WHY = ('mesonbuild.coredata runs dpkg-architecture at import (default_libdir), which python3'
             ' runs again in every run, and most of meson uses it')
HG_WHY = ('mercurial.pycompat copies sys.argv at import (sysargv), and the other mercurial'
          ' modules used it')

PROGRAMS = [
    Program(
        'pygmentize', ['python3-pygments'],
        ['importlib.metadata', 'pygments.cmdline', 'pygments.lexers.python',
         'pygments.lexers.special', 'pygments.formatters.terminal',
         'pygments.formatters.terminal256', 'pygments.formatters.html',
         'pygments.styles.default'],
        fixtures=['python'],
        generated={'big.py': big_python},
        cases=[
            Case('/usr/bin/pygmentize -l python -f terminal bad.py', covers={'defaults'}),
            Case('/usr/bin/pygmentize -V', covers={'defaults'}),
            Case('/usr/bin/pygmentize -N bad.py', covers={'defaults'}),
            Case('/usr/bin/pygmentize -f html -O full,title=bad -o out.html bad.py',
                 covers={'defaults', 'files'}),
            Case('/usr/bin/pygmentize -l python bad.py', tty=True, covers={'defaults'}),
            Case('/usr/bin/pygmentize -l python -f terminal', stdin=b'print("from stdin")\n',
                 covers={'defaults'}),
            Case('/usr/bin/pygmentize -l python -f terminal big.py', broken_pipe=4096),
            Case('/usr/bin/pygmentize -l no-such-lexer bad.py', covers={'defaults', 'exit'}),
            Case('/usr/bin/pygmentize -l python -f terminal bad.py', user='nobody',
                 covers={'defaults'}),
        ]),
    Program(
        'black', ['black'], ['black'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/black --version'),
            Case('/usr/bin/black --check bad.py', covers={'exit'}),
            Case('/usr/bin/black bad.py', covers={'files', 'home'},
                 normalise={'home/.cache/black/*/cache.*.pickle': black_cache}),
            Case('/usr/bin/black -q -', stdin=b'x = {  "a":37,"b":42,\n"c":927}\n'),
            Case('/usr/bin/black --diff --color bad.py', covers={'exit'},
                 normalise={'stdout': diff_mtimes}),
            Case('/usr/bin/black --check good.py bad.py', tty=True, covers={'exit'}),
            Case('/usr/bin/black bad.py', user='nobody', covers={'files', 'home'},
                 normalise={'home-nobody/.cache/black/*/cache.*.pickle': black_cache},
                 source_ok=['*'],
                 why=HOME_WHY % 'black.cache (CACHE_DIR) and sysconfig, which most of black used,'),
        ]),
    Program(
        'sphinx-build', ['python3-sphinx'],
        # Only what sphinx-build imports before it runs: the builders, domains
        # and extensions it loads later see its translators registered (their
        # labels are str then, lazy proxies before), and a freeze of them would
        # hold the proxies.
        ['sphinx.cmd.build'],
        fixtures=['sphinx'],
        cases=[
            Case('/usr/bin/sphinx-build --version', covers={'defaults'}, source_ok=['sphinx.cmd.build'], why=SPHINX_WHY),
            Case('/usr/bin/sphinx-build -b html doc out', covers={'defaults', 'files'}, source_ok=['sphinx.cmd.build'], why=SPHINX_WHY,
                 normalise={'cwd/out/.doctrees/environment.pickle': sphinx_environment}),
            Case('/usr/bin/sphinx-build -q -b text doc out', covers={'defaults', 'files'}, source_ok=['sphinx.cmd.build'], why=SPHINX_WHY,
                 normalise={'cwd/out/.doctrees/environment.pickle': sphinx_environment}),
            Case('/usr/bin/sphinx-build -q -W -b html warn out', covers={'defaults', 'exit'}, source_ok=['sphinx.cmd.build'], why=SPHINX_WHY,
                 normalise={'cwd/out/.doctrees/environment.pickle': sphinx_environment}),
            Case('/usr/bin/sphinx-build -b html doc out', tty=True, covers={'defaults', 'files'}, source_ok=['sphinx.cmd.build'], why=SPHINX_WHY,
                 normalise={'cwd/out/.doctrees/environment.pickle': sphinx_environment}),
        ]),
    Program(
        'http', ['httpie'],
        ['importlib.metadata', 'httpie.core', 'httpie.cli.definition', 'httpie.output.writer',
         'netrc'],
        fixtures=['httpie'],
        cases=[
            Case('/usr/bin/http --version'),
            Case('/usr/bin/http --offline --ignore-stdin example.org/get q==1',
                 covers={'streams', 'home'}),
            Case('/usr/bin/http --offline --ignore-stdin POST example.org/post a=1 b:=2 X-Hdr:v',
                 covers={'streams'}),
            Case('/usr/bin/http --offline POST example.org/post', stdin=b'{"from": "stdin"}\n',
                 covers={'streams'}),
            Case('/usr/bin/http --offline --ignore-stdin example.org/get', tty=True,
                 covers={'streams'}, source_ok=['httpie', 'httpie.*'],
                 why=TTY_WHY % 'httpie.context (Environment.stdout_isatty)'),
            Case('/usr/bin/http --offline --ignore-stdin', covers={'exit'}),
            Case('/usr/bin/http --offline --ignore-stdin POST example.org/post a=1', user='nobody',
                 covers={'home', 'streams'}, source_ok=['*'],
                 why=HOME_WHY % 'httpie.config (DEFAULT_CONFIG_DIR), and sysconfig,' +
                 ' which most of the image used,'),
        ]),
    Program(
        'pylint', ['pylint'],
        ['pylint.lint', 'pylint.checkers.refactoring', 'pylint.checkers.classes',
         'pylint.checkers.base', 'pylint.graph', 'pylint.reporters.text', 'shlex', 'getopt'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/pylint --version'),
            Case('/usr/bin/pylint bad.py', covers={'exit', 'files', 'home'}),
            Case('/usr/bin/pylint --disable=all --enable=unused-import --score=n bad.py',
                 covers={'exit', 'files', 'home'}),
            # isort.format (imported through pylint) runs colorama.init() at import: it
            # wraps sys.stdout and resets the terminal's colours at exit.
            Case('/usr/bin/pylint --output-format=colorized good.py', tty=True,
                 covers={'files', 'home', 'streams'},
                 cold_ok='module isort.format stays in sys.modules, and whether descriptor 1 is '
                         'a terminal differs from the freeze',
                 why=TTY_WHY % 'isort.format (colorama.init(), which also replaces sys.stdout, so'
                     ' the module stays in sys.modules from the start)'),
            Case('/usr/bin/pylint bad.py', user='nobody', covers={'exit', 'files', 'home'},
                 source_ok=['*'],
                 why=HOME_WHY % 'astroid.modutils and pylint.constants (PYLINT_HOME), which most'
                     ' of pylint used,'),
        ]),
    Program(
        'flake8', ['flake8'],
        ['importlib.metadata', 'flake8.main.cli', 'flake8.main.application', 'flake8.checker',
         'pycodestyle', 'pyflakes.checker', 'mccabe', 'multiprocessing.pool', 'email.parser',
         'optparse'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/flake8 --version'),
            Case('/usr/bin/flake8 bad.py', covers={'exit'}),
            Case('/usr/bin/flake8 good.py'),
            Case('/usr/bin/flake8 -', stdin=b'import os\nx=1\n', covers={'exit'}),
            Case('/usr/bin/flake8 --jobs=2 .', covers={'exit'}),
            Case('/usr/bin/flake8 bad.py', tty=True, covers={'exit'}),
        ]),
    Program(
        'pip', ['python3-pip'],
        ['pip._internal.cli.main', 'pip._internal.cli.req_command',
         'pip._internal.commands.list', 'pip._internal.commands.show',
         'pip._internal.metadata.importlib', 'pip._internal.metadata.pkg_resources',
         'pip._vendor.pkg_resources', 'traceback'],
        fixtures=['python'],
        cases=[
            Case('-m pip --version'),
            Case('-m pip list', source_ok=PIP_SOURCE, why=PIP_WHY),
            Case('-m pip list -v', broken_pipe=0, covers={'exit'}, source_ok=PIP_SOURCE,
                 why=PIP_WHY),
            Case('-m pip show six', source_ok=PIP_SOURCE, why=PIP_WHY),
            Case('-m pip show no-such-distribution', covers={'exit'}, source_ok=PIP_SOURCE,
                 why=PIP_WHY),
            Case('-m pip --version', user='nobody', source_ok=['*'],
                 why=HOME_WHY % 'sysconfig (its user base), which most of pip used,'),
        ]),
    Program(
        'ansible', ['ansible-core'],
        # Not ansible.plugins.action nor ansible.plugins.strategy: their import makes a
        # multiprocessing lock (a semaphore mapped from /dev/shm), which no image can carry.
        ['ansible.cli.adhoc', 'ansible.cli.config', 'ansible.plugins.inventory',
         'ansible.plugins.connection',
         'ansible.plugins.shell', 'ansible.playbook.handler', 'ansible.playbook.task_include',
         'ansible.playbook.role_include', 'ansible.executor.task_queue_manager'],
        cases=[
            Case('/usr/bin/ansible --version', covers={'home'}, source_ok=['*'], why=ANSIBLE_WHY),
            Case('/usr/bin/ansible-config list', broken_pipe=0, source_ok=['*'], why=ANSIBLE_WHY),
            Case('/usr/bin/ansible -i localhost, -c local localhost -m ping',
                 covers={'files', 'home'}, source_ok=['*'], why=ANSIBLE_WHY),
            Case('/usr/bin/ansible -i localhost, -c local localhost -m no_such_module',
                 covers={'exit'}, source_ok=['*'], why=ANSIBLE_WHY),
            Case('/usr/bin/ansible --version', user='nobody', covers={'home'},
                 source_ok=['*'],
                 why=HOME_WHY % 'ansible.constants (DEFAULT_MODULE_PATH and others)' +
                 '; ' + ANSIBLE_WHY),
        ]),
    Program(
        'hg', ['mercurial'],
        ['hgdemandimport', 'mercurial.dispatch', 'mercurial.commands', 'mercurial.localrepo',
         'mercurial.hg', 'mercurial.cmdutil', 'mercurial.logcmdutil', 'mercurial.context',
         'mercurial.ui', 'mercurial.utils.procutil'],
        fixtures=['hg'],
        cases=[
            Case('/usr/bin/hg --version', covers={'lazy', 'streams'}, source_ok=HG_SOURCE, why=HG_WHY),
            Case('/usr/bin/hg init repo', covers={'lazy', 'files'}, source_ok=HG_SOURCE, why=HG_WHY),
            Case(['/usr/bin/hg', '-R', 'repo', 'commit', '-A', '-u', 'battery', '-m', 'first',
                  '-d', '2023-01-01 00:00 +0000'], covers={'lazy', 'files'}, source_ok=HG_SOURCE, why=HG_WHY,
                 files={'repo/hello.txt': 'Hello from the battery.\n'}, setup=['/usr/bin/hg init repo']),
            Case('/usr/bin/hg -R repo log', covers={'lazy', 'streams'}, source_ok=HG_SOURCE, why=HG_WHY,
                 files={'repo/hello.txt': 'Hello from the battery.\n'},
                 setup=['/usr/bin/hg init repo',
                        ['/usr/bin/hg', '-R', 'repo', 'commit', '-A', '-u', 'battery', '-m',
                         'first', '-d', '2023-01-01 00:00 +0000']]),
            Case('/usr/bin/hg -R repo log --pager=never -v', tty=True, covers={'lazy', 'streams'},
                 source_ok=HG_SOURCE,
                 files={'repo/hello.txt': 'Hello from the battery.\n'},
                 setup=['/usr/bin/hg init repo',
                        ['/usr/bin/hg', '-R', 'repo', 'commit', '-A', '-u', 'battery', '-m',
                         'first', '-d', '2023-01-01 00:00 +0000']],
                 why=HG_WHY + '; ' + TTY_WHY % 'mercurial.utils.procutil (line-buffered stdout)'),
            Case('/usr/bin/hg -R no-such-repo log', covers={'lazy', 'exit'}, source_ok=HG_SOURCE, why=HG_WHY),
            Case('/usr/bin/hg init repo', user='nobody', covers={'lazy', 'files'}, source_ok=HG_SOURCE, why=HG_WHY),
        ]),
    Program(
        'rst2html', ['python3-docutils'],
        ['locale', 'docutils.core', 'docutils.writers.html4css1', 'docutils.parsers.rst',
         'docutils.parsers.rst.states', 'docutils.parsers.rst.roles',
         'docutils.transforms.frontmatter', 'docutils.transforms.references',
         'docutils.transforms.misc', 'docutils.transforms.parts'],
        fixtures=['docutils'],
        cases=[
            Case('/usr/bin/rst2html --version'),
            Case('/usr/bin/rst2html doc.rst'),
            Case('/usr/bin/rst2html doc.rst out.html', covers={'files'}),
            Case('/usr/bin/rst2html', stdin=b'Title\n=====\n\nFrom *stdin*.\n'),
            Case('/usr/bin/rst2html --halt=warning broken.rst', covers={'exit'}),
        ]),
    Program(
        'pybabel', ['python3-babel'],
        ['importlib.metadata', 'babel.messages.frontend', 'babel.messages.extract',
         'babel.messages.mofile', 'babel.messages.pofile', 'setuptools'],
        fixtures=['babel'],
        cases=[
            Case('/usr/bin/pybabel-python3 --version'),
            Case('/usr/bin/pybabel-python3 extract -o messages.pot app', covers={'files'},
                 normalise={'cwd/messages.pot': po_header('POT-Creation-Date')}),
            Case('/usr/bin/pybabel-python3 init -i tmpl/messages.pot -d locale -l fr',
                 covers={'files'},
                 normalise={'cwd/locale/fr/LC_MESSAGES/messages.po': po_header('PO-Revision-Date')}),
            Case('/usr/bin/pybabel-python3 compile -d locale', covers={'files'}),
            Case('/usr/bin/pybabel-python3', covers={'exit'}),
        ]),
    Program(
        'mypy', ['mypy'],
        ['mypy.__main__', 'mypy.main', 'mypy.build', 'mypy.plugins.attrs',
         'mypy.plugins.functools', 'mypy.plugins.ctypes', 'mypy.plugins.singledispatch'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/mypy --version', covers={'streams'}),
            Case('/usr/bin/mypy types_bad.py', covers={'streams', 'files', 'exit'},
                 normalise={'cwd/.mypy_cache/*.meta.json': mypy_meta}),
            Case('/usr/bin/mypy good.py', covers={'streams', 'files'}, tty=True,
                 setup=['/usr/bin/mypy good.py'],
                 normalise={'cwd/.mypy_cache/*.meta.json': mypy_meta}),
        ]),
    Program(
        'rich', ['python3-rich'],
        ['rich.console', 'rich.markdown', 'rich.pretty', 'rich._inspect', 'rich.ansi',
         'pygments.lexers.python', 'pygments.styles.monokai', 'argparse'],
        fixtures=['python', 'markdown'],
        cases=[
            Case('-m rich.diagnose', tty=True),
            Case('-m rich.diagnose'),
            Case('-m rich.markdown README.md', tty=True),
            Case('-m rich.markdown -w 60 README.md'),
            Case('-m rich.syntax -x python -l bad.py', tty=True),
        ]),
    Program(
        'yamllint', ['yamllint'],
        ['importlib.metadata', 'yamllint.cli', 'yamllint.linter', 'yamllint.rules', 'argparse',
         'platform'],
        fixtures=['yamllint'],
        cases=[
            Case('/usr/bin/yamllint --version'),
            Case('/usr/bin/yamllint bad.yaml', covers={'exit'}),
            Case('/usr/bin/yamllint -f parsable bad.yaml', covers={'exit'}),
            Case('/usr/bin/yamllint good.yaml'),
            Case('/usr/bin/yamllint -', stdin=b'a: 1\na: 2\n', covers={'exit'}),
            Case('/usr/bin/yamllint bad.yaml', tty=True, covers={'exit'}),
        ]),
    Program(
        'isort', ['isort'],
        ['importlib.metadata', 'isort.main', 'isort.settings', 'isort.api',
         'isort.setuptools_commands'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/isort --version'),
            Case('/usr/bin/isort --check-only --diff bad.py', covers={'exit'},
                 normalise={'stdout': diff_mtimes}),
            Case('/usr/bin/isort bad.py', covers={'files'}),
            Case('/usr/bin/isort -', stdin=b'import sys\nimport os\nimport abc\n'),
        ]),
    Program(
        'pyflakes3', ['pyflakes3'],
        ['importlib.metadata', 'pyflakes.api', 'pyflakes.checker', 'pyflakes.reporter',
         'platform'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/pyflakes3 --version'),
            Case('/usr/bin/pyflakes3 bad.py', covers={'exit'}),
            Case('/usr/bin/pyflakes3 good.py'),
            Case('/usr/bin/pyflakes3', stdin=b'import os\nprint(undefined)\n', covers={'exit'}),
        ]),
    Program(
        'pycodestyle', ['pycodestyle'],
        ['importlib.metadata', 'pycodestyle', 'configparser', 'inspect', 'optparse'],
        fixtures=['python'],
        cases=[
            Case('/usr/bin/pycodestyle bad.py', covers={'exit'}),
            Case('/usr/bin/pycodestyle --statistics -qq bad.py', covers={'exit'}),
            Case('/usr/bin/pycodestyle --show-source good.py bad.py', covers={'exit'}),
            Case('/usr/bin/pycodestyle -', stdin=b'x=1\n', covers={'exit'}),
        ]),
    Program(
        'markdown_py', ['python3-markdown'],
        ['importlib.metadata', 'markdown', 'markdown.__main__', 'markdown.extensions.toc',
         'markdown.extensions.tables'],
        fixtures=['markdown'],
        cases=[
            Case('/usr/bin/markdown_py README.md'),
            Case('/usr/bin/markdown_py -x toc -x tables -f out.html README.md', covers={'files'}),
            Case('/usr/bin/markdown_py', stdin=b'# Title\n\n*from stdin*\n'),
        ]),
    Program(
        'sqlparse', ['python3-sqlparse'],
        ['sqlparse', 'sqlparse.cli'],
        fixtures=['sqlparse'],
        cases=[
            Case('-m sqlparse -r -k upper query.sql'),
            Case('-m sqlparse -r -a -', stdin=b'select 1 as one, 2 as two from dual where x=1\n'),
            Case('-m sqlparse -r -o out.sql query.sql', covers={'files'}),
            Case('-m sqlparse no-such-file.sql', covers={'exit'}),
        ]),
    Program(
        'meson', ['meson'],
        # symbolextractor is what ninja runs at every link of a shared library; its
        # argparse parser is made at import, so its prog comes from sys.argv[0] then.
        ['mesonbuild.mesonmain', 'mesonbuild.mintro', 'mesonbuild.scripts.symbolextractor'],
        fixtures=['meson'],
        cases=[
            Case('/usr/bin/meson --version', source_ok=['mesonbuild.*'], why=MESON_WHY),
            Case('/usr/bin/meson --internal symbolextractor', covers={'defaults', 'exit'}),
            Case('/usr/bin/meson introspect --projectinfo meson.build', source_ok=['mesonbuild.*'],
                 why=MESON_WHY),
            Case('/usr/bin/meson introspect --targets meson.build', broken_pipe=0,
                 covers={'exit'}, source_ok=['mesonbuild.*'], why=MESON_WHY),
        ]),
    Program(
        'coverage', ['python3-coverage'],
        ['coverage', 'coverage.cmdline', 'coverage.control', 'coverage.summary',
         'coverage.sqldata'],
        fixtures=['coverage'],
        cases=[
            Case('-m coverage --version'),
            Case('-m coverage run prog.py 5 -1', covers={'files'},
                 normalise={'cwd/.coverage': coverage_data}),
            Case('-m coverage report --fail-under=100', covers={'exit'},
                 setup=['-m coverage run prog.py 5 -1'],        # writes .coverage each time
                 normalise={'cwd/.coverage': coverage_data}),
        ]),
]
