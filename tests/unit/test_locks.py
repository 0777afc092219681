"""The hashed locks (`make lock`): every package pinned with its hashes, the inputs honoured, and the development
tools running exactly the versions the layer ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
INPUTS = {LAYER_LOCK: ROOT / "layers" / "shared" / "requirements.in", DEV_LOCK: ROOT / "requirements-dev.in"}


def entries(lock: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """{canonical name: (requirement, its hashes)} of a lock, continuation lines joined."""
    text = lock.read_text().replace("\\\n", " ")
    found: dict[str, tuple[Requirement, list[str]]] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *hashes = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        found[canonicalize_name(requirement.name)] = (requirement, [h.strip() for h in hashes])
    return found


def inputs(path: Path) -> list[Requirement]:
    """The requirements of a `.in` file, following its `-r` includes."""
    found: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += inputs(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned with =="
    return specifier.version


@pytest.mark.parametrize("lock", [LAYER_LOCK, DEV_LOCK], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_locked_package_is_pinned_with_sha256_hashes(lock: Path) -> None:
    locked = entries(lock)
    assert len(locked) >= 10
    for name, (requirement, hashes) in locked.items():
        pinned_version(requirement)
        assert hashes, f"{name} has no hash"
        assert all(h.startswith("sha256:") and len(h) == len("sha256:") + 64 for h in hashes), name


@pytest.mark.parametrize("lock", [LAYER_LOCK, DEV_LOCK], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_input_is_locked_at_a_version_it_allows(lock: Path) -> None:
    locked = entries(lock)
    for wanted in inputs(INPUTS[lock]):
        name = canonicalize_name(wanted.name)
        assert name in locked, f"{wanted} ({INPUTS[lock].name}) is missing from {lock.name}: run `make lock`"
        requirement, _ = locked[name]
        assert wanted.specifier.contains(pinned_version(requirement), prereleases=True), (wanted, requirement)
        assert wanted.extras <= requirement.extras, f"{name}: extras {wanted.extras} not locked"


def test_the_development_tools_run_the_layers_versions() -> None:
    layer, dev = entries(LAYER_LOCK), entries(DEV_LOCK)
    for name, (requirement, _) in layer.items():
        assert name in dev, f"{name} (layer) is missing from requirements-dev.txt"
        assert pinned_version(dev[name][0]) == pinned_version(requirement), name


def test_the_layer_lock_holds_wheels_for_more_than_one_platform() -> None:
    """sam build downloads on this machine's platform first, then Lambda's arm64 wheels: the binary packages list
    the hashes of many wheels, not only one platform's."""
    _, hashes = entries(LAYER_LOCK)["pydantic-core"]
    assert len(hashes) > 20
