"""Collects MicroPython test modules in tests/device/ and runs them in the Unix port.

Each top-level `def test_*` becomes its own pytest item. A module runs once, in
one micropython process, when its first item runs; the results are cached and each
item reports its own outcome, showing the MicroPython traceback on failure.
"""
import ast
import json
import os
import subprocess

import pytest

from verdant_host import paths

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MARK = "\x1e@@verdant-test "
MODULE_TIMEOUT_S = int(os.environ.get("VERDANT_DEVICE_TEST_TIMEOUT", "900"))


def micropython_path():
    path = paths.micropython()
    if not os.path.exists(path):
        raise pytest.UsageError(
            "micropython Unix port not found at %s; run `make setup` or set MICROPYTHON=/path" % path)
    return path


def micropython_env():
    env = dict(os.environ)
    # Device code, the device test helpers, the host's MicroPython-compatible model
    # builder (verdant_host.model_builder); '.frozen' keeps the frozen modules reachable.
    env["MICROPYPATH"] = os.pathsep.join([paths.DEVICE_DIR, HERE, os.path.join(paths.REPO_DIR, "host"), ".frozen"])
    return env


class MicroPythonFailure(Exception):
    pass


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.name.startswith("test_") and str(module_path.parent) == HERE:
        return MicroPythonModule.from_parent(parent, path=module_path)
    return None


class MicroPythonModule(pytest.File):
    results = None

    def collect(self):
        tree = ast.parse(self.path.read_text(), filename=str(self.path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield MicroPythonItem.from_parent(self, name=node.name)

    def run_once(self):
        if self.results is None:
            self.results = self._run()
        return self.results

    def _run(self):
        cmd = [micropython_path(), "-X", "heapsize=8M", os.path.join(HERE, "mpy_runner.py"), self.path.stem]
        proc = subprocess.run(cmd, cwd=HERE, env=micropython_env(), capture_output=True,
                              text=True, timeout=MODULE_TIMEOUT_S)
        results, output = {}, []
        for line in proc.stdout.split("\n"):  # not splitlines: it splits on \x1e
            if line.startswith(MARK):
                record = json.loads(line[len(MARK):])
                record["output"] = "\n".join(output)
                results[record["name"]] = record
                output = []
            else:
                output.append(line)
        if proc.returncode != 0 or "*" in results:
            crash = results.get("*", {}).get("detail", "")
            results["*"] = {"outcome": "error", "output": "\n".join(output),
                            "detail": "micropython exited %d\n%s%s" % (proc.returncode, crash, proc.stderr)}
        return results


class MicroPythonItem(pytest.Item):
    def runtest(self):
        results = self.parent.run_once()
        record = results.get(self.name) or results.get("*") or {
            "outcome": "error", "detail": "test did not report a result", "output": ""}
        if record.get("output"):
            print(record["output"])
        if record["outcome"] == "skipped":
            pytest.skip(record["detail"])
        if record["outcome"] != "passed":
            raise MicroPythonFailure(record["detail"])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "MicroPython traceback:\n" + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "micropython: %s" % self.name
