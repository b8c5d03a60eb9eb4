"""A package that replaces its own sys.modules entry with a proxy object, as
twisted.python.deprecate.deprecatedModuleAttribute does for twisted.python,
twisted.python.compat, twisted.python.util and twisted.internet.error.

Found by the real-programs probe: every freeze that imports twisted (trial3,
twistd, any --learn of them) fails with status 1 and a traceback from the
dump driver ('_ModuleProxy' object has no attribute 'deprecate'), because
hiding a submodule deletes it from its parent with delattr(), which twisted's
proxy does not forward."""

import pytest

from conftest import assert_same_as_stock, freeze, runs_warm

PROXY_PACKAGE = '''\
import sys

class _Proxy:
    """Like twisted.python.deprecate._ModuleProxy: forwards attribute reads
    and writes to the module, but not deletions."""
    def __init__(self, module):
        object.__setattr__(self, "_module", module)
    def __getattribute__(self, name):
        return getattr(object.__getattribute__(self, "_module"), name)
    def __setattr__(self, name, value):
        setattr(object.__getattribute__(self, "_module"), name, value)

sys.modules[__name__] = _Proxy(sys.modules[__name__])
'''

CODE = ("import sys, proxpkg.sub; print(proxpkg.sub.VALUE, type(sys.modules['proxpkg']).__name__, "
        "proxpkg.sub is sys.modules['proxpkg.sub'])")


@pytest.fixture
def proxy_package(tmp_path):
    (tmp_path / "proxpkg").mkdir()
    (tmp_path / "proxpkg" / "__init__.py").write_text(PROXY_PACKAGE)
    (tmp_path / "proxpkg" / "sub.py").write_text("VALUE = 42\n")
    return tmp_path


def test_a_package_replaced_by_a_proxy_without_delattr_freezes(proxy_package):
    image = proxy_package / "img"
    result = freeze(image, "proxpkg.sub", cwd=proxy_package, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert_same_as_stock(image, ["-c", CODE], cwd=proxy_package)
    assert runs_warm(image, ["-c", CODE], cwd=proxy_package)
