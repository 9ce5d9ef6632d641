"""pyproject promises only what the code can keep: torch and gymnasium bounds."""

import tomllib
from pathlib import Path

import gymnasium
import torch
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _requirement(name: str) -> Requirement:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == name]
    return req


def test_torch_floor_has_a_fused_cpu_adam():
    """Both trainers use ``fused=True`` Adam on the CPU, which torch 2.3 lacks."""
    spec = _requirement("torch").specifier
    assert Version("2.3.1") not in spec and Version("2.4.0") in spec
    assert Version(torch.__version__.split("+")[0]) in spec


def test_gymnasium_is_bounded_above_for_the_vectorised_cartpole():
    """utils.engine sets CartPoleVectorEnv's private state: only tested releases are allowed."""
    spec = _requirement("gymnasium").specifier
    assert any(s.operator in ("<", "<=", "~=", "==") for s in spec)
    assert Version("99.0") not in spec
    assert Version(gymnasium.__version__) in spec


def test_every_subpackage_is_installed():
    """utils.engine and utils.lessons are packages too: a Colab install must include them."""
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]
    assert config.get("packages", {}).get("find", {}).get("include") == ["utils", "utils.*"]
