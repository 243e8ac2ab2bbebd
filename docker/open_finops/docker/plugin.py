"""The ``finops docker`` plugin: Metabase with the DuckDB driver, run with docker compose.

Registered by open-finops-docker as ``docker = open_finops.docker.plugin:PLUGIN`` in the
``open_finops.vendors`` entry point group. Configuration, in ``[docker]`` of config.toml or
``OPEN_FINOPS_DOCKER_<KEY>``: ``dir`` (where init writes and compose runs), ``port`` and
``bind`` (where Metabase listens on the host).
"""
from __future__ import annotations

import argparse

from open_finops.core.plugins import VendorPlugin
from open_finops.docker import commands

CONFIG_DEFAULTS = {
    "dir": commands.DEFAULT_DIR,
    "port": 3000,
    "bind": "127.0.0.1",
}


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(title="commands", metavar="COMMAND",
                                help="one of these; 'finops docker COMMAND --help' tells more")

    init = sub.add_parser(
        "init", help="write compose.yaml, Dockerfile and .env into DIR",
        description="Write compose.yaml, Dockerfile and .env (serving the configured database)"
                    " into DIR, and print their paths.")
    init.add_argument("dir", nargs="?", metavar="DIR",
                      help=f"target directory (default: [docker] dir, {commands.DEFAULT_DIR})")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(handler=commands.init)

    for name, handler, text in (
        ("up", commands.up, "build if needed and start Metabase in the background"),
        ("down", commands.down, "stop and remove the Metabase container (data is kept)"),
        ("status", commands.status, "show the state of the Metabase container"),
    ):
        command = sub.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}:"
                                 f" docker compose {commands.COMPOSE_ARGS[name][0]} in DIR.")
        command.add_argument("--dir", metavar="DIR",
                             help=f"directory written by init (default: [docker] dir,"
                                  f" {commands.DEFAULT_DIR})")
        if name == "up":
            command.add_argument("--build", action="store_true",
                                 help="rebuild the image before starting")
        command.set_defaults(handler=handler)


PLUGIN = VendorPlugin(
    name="docker",
    help="run Metabase on the Open FinOps database with docker compose",
    register=register,
    config_defaults=CONFIG_DEFAULTS,
)
