"""A service's Lua scripts, loaded from its package's `lua/` folder, and the answer every
create with a reused Idempotency-Key gets."""
from importlib import resources as package_files

import redis

from services.common.problems import Problem, conflict


def load_script(client: redis.Redis, package: str, name: str):
    source = package_files.files(package).joinpath("lua", f"{name}.lua").read_text()
    return client.register_script(source)


def key_reused() -> Problem:
    return conflict("idempotency-key-reused",
                    "this Idempotency-Key was already used with a different request body")
