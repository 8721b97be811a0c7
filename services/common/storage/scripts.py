"""A service's Lua scripts, loaded from its package's `lua/` folder with the shared libraries
they include; and a pipeline that can hold them."""
import re
from importlib import resources as package_files

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError

# A script's line `--! include <library>` is replaced by <library>.lua of the script's own lua/
# folder (a rule of one service), else of services/common/storage/lua (a rule every service
# applies): a rule several scripts apply is written once, and each script stays one atomic call.
INCLUDE = re.compile(r"^--! include (\w+)$", re.M)


def script_source(package: str, name: str) -> str:
    """The script `<package>/lua/<name>.lua` with its includes in place."""
    source = package_files.files(package).joinpath("lua", f"{name}.lua").read_text()
    return INCLUDE.sub(lambda m: script_source(_library_home(package, m.group(1)), m.group(1)),
                       source)


def _library_home(package: str, library: str) -> str:
    own = package_files.files(package).joinpath("lua", f"{library}.lua").is_file()
    return package if own else __package__


def load_script(client: redis.Redis, package: str, name: str):
    return client.register_script(script_source(package, name))


class ScriptPipeline:
    """A non-transactional pipeline that can hold script calls: one round trip for all.

    Not `script(client=pipe)`: redis-py then sends SCRIPT EXISTS before every execute, the
    round trip a pipeline saves. A script call answered NOSCRIPT (Redis restarted or flushed
    its scripts) did not run: it is loaded and run again, alone, after the rest. Any other
    error is raised in command order, as if each command had been sent alone."""

    def __init__(self, client: redis.Redis):
        self.pipe = client.pipeline(transaction=False)
        self._scripts: dict[int, tuple[Script, list, list]] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.pipe.reset()

    def __getattr__(self, command):
        return getattr(self.pipe, command)  # any other command, queued as usual

    def script(self, script: Script, keys: list, args: list) -> None:
        self._scripts[len(self.pipe)] = (script, keys, args)
        self.pipe.evalsha(script.sha, len(keys), *keys, *args)

    def execute(self) -> list:
        replies = self.pipe.execute(raise_on_error=False)
        for n, reply in enumerate(replies):
            if isinstance(reply, NoScriptError) and n in self._scripts:
                script, keys, args = self._scripts[n]
                replies[n] = script(keys=keys, args=args)
            elif isinstance(reply, Exception):
                raise reply
        return replies
