"""Subcommands of the `goldpan` CLI, one module each.

Each module defines `register(sub)` that adds its parser(s) to the argparse subparsers and sets
`fn` to a callable taking the parsed args and returning an exit code. Adding a command is one new
module plus one entry in `COMMAND_MODULES`, so stages can grow their own commands without
editing each other's code.
"""

COMMAND_MODULES: list[str] = [
    "goldpan.commands.trace",
    "goldpan.commands.funnel",
    "goldpan.commands.releases",
    "goldpan.commands.sql",
    "goldpan.commands.clusters",
    "goldpan.commands.export",
    "goldpan.commands.mix",
    "goldpan.commands.why",
    "goldpan.commands.diff",
    "goldpan.commands.takedown",
    "goldpan.commands.report",
    "goldpan.commands.sweep",
    "goldpan.commands.run",
]
