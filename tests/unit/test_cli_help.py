"""Every option of every ``khoso`` command says what it does in ``--help`` (arguments have no
help text in Click; their command's docstring names them)."""

from __future__ import annotations

from collections.abc import Iterator

import click

from access_api.cli import main


def commands(group: click.Group, path: str = "khoso") -> Iterator[tuple[str, click.Command]]:
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")
        else:
            yield f"{path} {name}", command


def test_every_option_has_a_help_text():
    missing = [f"{path} {'/'.join(param.opts)}"
               for path, command in commands(main)
               for param in command.params
               if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert missing == []


def test_every_command_has_a_docstring():
    assert [path for path, command in commands(main) if not (command.help or "").strip()] == []


def test_the_walk_sees_nested_commands():
    paths = {path for path, _ in commands(main)}
    assert {"khoso job show", "khoso aip list", "khoso report register", "khoso settings"} <= paths
