"""Ships the repository's top-level boards/ and firmware/ inside the package.

They stay first-class folders of the repository; a wheel (built from the tree
or from the sdist, which carries them through MANIFEST.in) holds them as
hil/_data/boards and hil/_data/firmware, where hil.datadirs finds them. An
editable install needs no copy: it reads the checkout's folders in place.
Everything else is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("boards", "firmware")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            self.copy_tree(name, str(Path(self.build_lib, "hil", "_data", name)))


setup(cmdclass={"build_py": BuildPyWithData})
