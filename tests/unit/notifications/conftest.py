"""The notifications service's use cases run against the real store over fakeredis, which runs
the store's own Lua scripts: no Redis server, no broker."""
from __future__ import annotations

import fakeredis
import pytest

from services.common.storage.secrets_box import SecretsBox
from services.notifications.store import NotificationsStore


@pytest.fixture
def store() -> NotificationsStore:
    return NotificationsStore(fakeredis.FakeRedis(decode_responses=True))


@pytest.fixture
def box() -> SecretsBox:
    return SecretsBox(SecretsBox.new_key())
