"""``tierrules completion bash|zsh|fish``: a shell completion script, generated from the parser.

The script is static (like ``ruff generate-shell-completion`` and ``opa completion``): the
shell completes commands, options, choices and file names by itself, without starting
Python on every TAB. It is generated from the argument parser, so it always lists the
commands and options this version has; regenerate it after an upgrade.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .common import EXIT_OK

SHELLS = ("bash", "zsh", "fish")

_ENABLE = """\
enable it:
  bash  eval "$(tierrules completion bash)"                  # in ~/.bashrc
  zsh   eval "$(tierrules completion zsh)"                   # in ~/.zshrc, after compinit
  fish  tierrules completion fish > ~/.config/fish/completions/tierrules.fish
"""

# Values the shell can complete as file names, beside arguments of type Path: by name, or
# by the metavar --help shows (so a command added later completes its paths too).
_PATH_NAMES = frozenset(("events", "batch", "cases", "ruleset", "tests", "old", "new", "dir"))
_PATH_METAVARS = frozenset(("PATH", "FILE", "DIR", "FILE_OR_DIR", "EVENTS", "CASES", "RULESET", "OUT"))


class Argument(NamedTuple):
    """One option or positional argument, as completion sees it."""

    flags: tuple[str, ...]  # empty for a positional
    name: str
    help: str
    takes_value: bool
    words: tuple[str, ...] = ()  # the values to offer (choices); else
    files: bool = False  # offer file names; else no value completion
    optional: bool = False  # a positional that may be left out


class Command(NamedTuple):
    name: str
    help: str
    arguments: tuple[Argument, ...]

    @property
    def options(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.flags)

    @property
    def positionals(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if not a.flags)


def register(sub: Any) -> None:
    co = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script for SHELL on stdout.",
        epilog=_ENABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    co.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    co.set_defaults(run=run)


def _pathlike(action: argparse.Action) -> bool:
    return action.type is Path or action.dest in _PATH_NAMES or action.metavar in _PATH_METAVARS


def _argument(action: argparse.Action) -> Argument:
    takes_value = action.nargs != 0
    words: tuple[str, ...] = tuple(str(c) for c in action.choices) if action.choices else ()
    if action.dest == "now":
        words = ("now",)
    files = takes_value and not words and _pathlike(action)
    return Argument(
        flags=tuple(action.option_strings),
        name=action.metavar if isinstance(action.metavar, str) else action.dest,
        help=" ".join((action.help or "").split()),
        takes_value=takes_value,
        words=words,
        files=files,
        optional=not action.option_strings and action.nargs in ("?", "*"),
    )


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    # argparse has no public way to list subcommands; completion tools (argcomplete, shtab) read these.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError("the parser has no subcommands")


def commands(parser: argparse.ArgumentParser) -> tuple[tuple[Argument, ...], tuple[Command, ...]]:
    """The top-level options, and every subcommand with its arguments, in --help order."""
    sub = _subparsers(parser)
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    top = tuple(_argument(a) for a in parser._actions if a.option_strings)
    found = tuple(
        Command(name, " ".join(helps.get(name, "").split()), tuple(_argument(a) for a in child._actions))
        for name, child in sub.choices.items()
    )
    return top, found


# --- bash ------------------------------------------------------------------------------------


def _bash_words(words: tuple[str, ...]) -> str:
    return 'mapfile -t COMPREPLY < <(compgen -W "' + " ".join(words) + '" -- "$cur")'


_BASH_FILES = 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur")'


def _bash_values(words: tuple[str, ...], files: bool) -> str:
    """The bash that completes a value: one of ``words``, a file name, or nothing."""
    return _bash_words(words) if words else _BASH_FILES if files else ":"


def _bash_command(command: Command) -> list[str]:
    lines = [f"    {command.name})", '        case "$prev" in']
    lines += [
        f"        {'|'.join(o.flags)}) {_bash_values(o.words, o.files)}; return ;;"
        for o in command.options
        if o.takes_value
    ]
    lines.append("        esac")
    flags = tuple(f for o in command.options for f in o.flags)
    words = tuple(w for p in command.positionals for w in p.words)
    rest = _bash_values(words, any(p.files for p in command.positionals))
    lines += [
        "        if [[ $cur == -* ]]; then",
        f"            {_bash_words(flags)}",
        "        else",
        f"            {rest}",
        "        fi ;;",
    ]
    return lines


def bash(top: tuple[Argument, ...], found: tuple[Command, ...]) -> str:
    """The bash script: ``complete -F _tierrules tierrules``."""
    first = tuple(c.name for c in found) + tuple(f for o in top for f in o.flags)
    lines = [
        "# bash completion for tierrules (generated by `tierrules completion bash`)",
        "_tierrules() {",
        '    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac",
        "    done",
        '    case "$cmd" in',
        f'    "") {_bash_words(first)} ;;',
    ]
    for command in found:
        lines += _bash_command(command)
    lines += ["    esac", "}", "complete -F _tierrules tierrules", ""]
    return "\n".join(lines)


# --- zsh -------------------------------------------------------------------------------------


def _zsh_quote(text: str) -> str:
    """``text`` single-quoted for zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_action(argument: Argument) -> str:
    if argument.words:
        return "(" + " ".join(argument.words) + ")"
    return "_files" if argument.files else " "


def _zsh_spec(argument: Argument) -> str:
    """An ``_arguments`` spec: ``--opt=[help]:name:action``, ``-v[help]``, ``:name:action``."""
    value = f":{argument.name.lower()}:{_zsh_action(argument)}" if argument.takes_value else ""
    if not argument.flags:
        return _zsh_quote((":" if argument.optional else "") + value)
    help_text = "".join("\\" + c if c in "[]\\" else c for c in argument.help)
    equals = "=" if argument.takes_value and argument.flags[0].startswith("--") else ""
    spec = _zsh_quote(f"{equals}[{help_text}]{value}")
    if len(argument.flags) == 1:
        return _zsh_quote(argument.flags[0]) + spec
    exclusive = _zsh_quote("(" + " ".join(argument.flags) + ")")
    return exclusive + "{" + ",".join(argument.flags) + "}" + spec


def zsh(top: tuple[Argument, ...], found: tuple[Command, ...]) -> str:
    """The zsh script: an autoloadable ``_tierrules`` (on fpath), or ``eval`` it after compinit."""
    lines = [
        "#compdef tierrules",
        "# zsh completion for tierrules (generated by `tierrules completion zsh`)",
        "_tierrules() {",
        "    local curcontext=$curcontext state line ret=1",
        "    typeset -A opt_args",
        "    _arguments -C \\",
        *(f"        {_zsh_spec(o)} \\" for o in top),
        "        '1:command:->command' '*::argument:->argument' && ret=0",
        "    case $state in",
        "    command)",
        "        local -a commands=(",
        *(f"            {_zsh_quote(c.name + ':' + c.help)}" for c in found),
        "        )",
        "        _describe -t commands 'tierrules command' commands && ret=0 ;;",
        "    argument)",
        "        curcontext=${curcontext%:*:*}:tierrules-$words[1]:",
        "        case $words[1] in",
    ]
    for command in found:
        specs = " ".join(_zsh_spec(a) for a in command.arguments)
        lines.append(f"        {command.name}) _arguments {specs} && ret=0 ;;")
    lines += [
        "        esac ;;",
        "    esac",
        "    return ret",
        "}",
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        '    _tierrules "$@"',
        "else",
        "    compdef _tierrules tierrules",
        "fi",
        "",
    ]
    return "\n".join(lines)


# --- fish ------------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_line(condition: str, argument: Argument) -> str:
    parts = ["complete -c tierrules -n", _fish_quote(condition)]
    for flag in argument.flags:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if argument.words:
        parts += ["-x -a", _fish_quote(" ".join(argument.words))]
    elif argument.files:
        parts.append("-r -F" if argument.flags else "-F")
    elif argument.takes_value and argument.flags:
        parts.append("-x")
    if argument.help:
        parts += ["-d", _fish_quote(argument.help)]
    return " ".join(parts)


def fish(top: tuple[Argument, ...], found: tuple[Command, ...]) -> str:
    """The fish script, for ``~/.config/fish/completions/tierrules.fish``."""
    lines = [
        "# fish completion for tierrules (generated by `tierrules completion fish`)",
        "complete -c tierrules -f",
        *(_fish_line("__fish_use_subcommand", o) for o in top),
        *(
            f"complete -c tierrules -n __fish_use_subcommand -a {c.name} -d {_fish_quote(c.help)}"
            for c in found
        ),
    ]
    for command in found:
        condition = f"__fish_seen_subcommand_from {command.name}"
        lines += [_fish_line(condition, a) for a in command.arguments if a.flags or a.words or a.files]
    return "\n".join([*lines, ""])


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    top, found = commands(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](top, found)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from . import build_parser  # the package's parser, with every command registered

    out.write(script(args.shell, build_parser()))
    return EXIT_OK
