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


# Like apipkg's ApiModule (vendored by `py`, which pytest and tox import):
# a module class whose __dict__ is a property that imports every attribute,
# one of which imports the package again, and an alias module whose every
# attribute read imports its target.  python3's import system reads
# neither __dict__ nor any attribute through the class.  The freeze did,
# recursed and failed: pytest and tox could not be frozen.
LAZY_PACKAGE = '''\
import sys
from types import ModuleType

class ApiModule(ModuleType):
    def __getattr__(self, name):
        if name == "heavy":
            import lazypkg._heavy
            return lazypkg._heavy
        raise AttributeError(name)

    @property
    def __dict__(self):
        print("lazypkg: __dict__ read", file=sys.stderr)
        import lazypkg
        self.heavy
        return ModuleType.__dict__["__dict__"].__get__(self)

class AliasModule(ModuleType):
    """Like apipkg's AliasModule (py.test for pytest): every attribute,
    __spec__ included, is the target's, imported on first read."""
    def __getattribute__(self, name):
        import lazypkg._heavy
        return getattr(lazypkg._heavy, name)

module = ApiModule(__name__)
module.__file__ = __file__
module.__path__ = __path__
module.__spec__ = __spec__
module.VERSION = "1.0"
sys.modules[__name__] = module
sys.modules["lazypkg.alias"] = AliasModule("lazypkg.alias")
'''

LAZY_CODE = ("import sys, lazypkg; from lazypkg import VERSION; "
             "print(VERSION, 'lazypkg._heavy' in sys.modules)")


def test_a_module_class_with_a_dict_property_is_never_asked_for_it(tmp_path):
    (tmp_path / "lazypkg").mkdir()
    (tmp_path / "lazypkg" / "__init__.py").write_text(LAZY_PACKAGE)
    (tmp_path / "lazypkg" / "_heavy.py").write_text("print('heavy imported')\n")
    image = tmp_path / "img"
    result = freeze(image, "lazypkg", cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert b"__dict__ read" not in result.stderr
    assert_same_as_stock(image, ["-c", LAZY_CODE], cwd=tmp_path)
    assert runs_warm(image, ["-c", LAZY_CODE], cwd=tmp_path)
    # the alias's target was not imported at the freeze: its import prints
    assert_same_as_stock(image, ["-c", "import lazypkg, lazypkg._heavy"], cwd=tmp_path)
