"""Every Lua file of services/ loads with its includes in place, and an installed guabang (a
wheel, not an editable checkout) holds every one of them."""
from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from setuptools import find_namespace_packages

from services.common.storage.scripts import INCLUDE, script_source

ROOT = Path(__file__).resolve().parents[2]
LUA = sorted((ROOT / "services").rglob("lua/*.lua"))


def package_of(path: Path) -> str:
    """The package whose lua/ folder holds `path`."""
    return ".".join(path.parent.parent.relative_to(ROOT).parts)


@pytest.mark.parametrize("path", LUA, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_script_loads_with_every_include_in_place(path):
    source = script_source(package_of(path), path.stem)
    assert not INCLUDE.search(source)
    assert "local function" in source or "redis.call" in source


def test_a_service_library_is_included_from_its_own_folder_and_a_shared_one_from_storage():
    source = script_source("services.notifications", "save_webhook")
    assert "local function webhook_as_it_stands" in source
    assert "local function earlier_answer" in source


@pytest.mark.parametrize("path", LUA, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_wheel_holds_the_script(path):
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = setuptools["packages"]["find"]
    assert find.get("namespaces", True), "lua/ folders are packages only as namespaces"
    packages = find_namespace_packages(str(ROOT), include=find["include"])
    folder = ".".join(path.parent.relative_to(ROOT).parts)
    assert folder in packages
    assert any(fnmatch(path.name, pattern) for pattern in setuptools["package-data"]["*"])
