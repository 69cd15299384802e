"""The `roost` command: run the demo home, a user program, or a raspend program."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import runpy
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from roost import app as app_module
from roost.core.version import __version__

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _add_run_options(
    parser: argparse.ArgumentParser,
    default_port: str,
    default_host: str = "127.0.0.1, this machine only; 0.0.0.0 opens it to the LAN",
) -> None:
    parser.add_argument("--host", default=None, help=f"address to listen on (default {default_host})")
    parser.add_argument(
        "--port", type=int, default=None, help=f"TCP port for the page and the API (default {default_port})"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="directory for history and other files (default $ROOST_DATA_DIR or ~/.local/share/roost/NAME)",
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        default=None,
        help="resident memory over which the node is degraded in /healthz (default: no limit)",
    )
    parser.add_argument(
        "--restart-on-memory-limit",
        action="store_true",
        help="over the memory limit, stop cleanly with exit status 75 so that systemd restarts the node",
    )
    parser.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", default=None, help="the private key of --tls-cert (PEM)")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy (address or network) whose X-Forwarded-For/-Proto are believed; repeatable",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web page's origin (http://host:port) that may call this node from another site; repeatable",
    )
    mqtt = parser.add_argument_group("MQTT bridge (needs pip install 'roost[mqtt]'; docs/mqtt.md)")
    mqtt.add_argument(
        "--mqtt",
        metavar="URL",
        default=None,
        help="put the node on this broker: mqtt://[user[:password]@]host[:port] or mqtts://...; "
        "a user without a password takes $ROOST_MQTT_PASSWORD (default: no bridge)",
    )
    mqtt.add_argument(
        "--mqtt-ca", type=Path, default=None, metavar="FILE", help="CA certificates (PEM) for mqtts://"
    )
    mqtt.add_argument("--mqtt-cert", type=Path, default=None, metavar="FILE", help="client certificate (PEM)")
    mqtt.add_argument(
        "--mqtt-key", type=Path, default=None, metavar="FILE", help="the client certificate's key"
    )


def _check_mqtt(args: argparse.Namespace) -> str | None:
    """Return why the --mqtt options cannot work, or None."""
    if args.mqtt is None:
        if args.mqtt_ca or args.mqtt_cert or args.mqtt_key:
            return "--mqtt-ca, --mqtt-cert and --mqtt-key need --mqtt"
        return None
    from roost.mqtt.settings import check_installed, parse_broker_url

    try:
        check_installed()
        parse_broker_url(args.mqtt, ca_file=args.mqtt_ca, cert_file=args.mqtt_cert, key_file=args.mqtt_key)
    except (RuntimeError, ValueError) as exc:
        return f"--mqtt: {exc}"
    for path in (args.mqtt_ca, args.mqtt_cert, args.mqtt_key):
        if path is not None and not path.is_file():
            return f"--mqtt: no such file: {path}"
    return None


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `roost` command."""
    parser = argparse.ArgumentParser(
        prog="roost",
        description="A small, fast home-automation backend: state, workers, commands, live page, history.",
    )
    parser.add_argument("--version", action="version", version=f"roost {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("ROOST_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log (default INFO)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="run the simulated demo home",
        description="Run a simulated home: rooms, plugs, solar, a doorbell.",
    )
    _add_run_options(demo, "8080")

    run = sub.add_parser(
        "run",
        help="run a roost program",
        description="Run PROGRAM.py, a Python file that creates a roost App.",
    )
    run.add_argument("program", type=Path, help="the Python file to run")
    run.add_argument("args", nargs="*", help="arguments for the program itself, after --")
    _add_run_options(run, "the program's, else 8080")

    raspend = sub.add_parser(
        "raspend",
        help="run an unmodified raspend 2.x program",
        usage="roost raspend [--host HOST] [--port PORT] [--data-dir DIR] [--raspend-auth] "
        "PROGRAM.py [ARGS...]",
        description="Run PROGRAM.py, a raspend 2.x program, on roost: `import raspend` gets roost's "
        "implementation, and ARGS go to the program (e.g. its own --port). roost's options come "
        "before PROGRAM.py and win over what the program asks for. See docs/raspend.md.",
    )
    raspend.add_argument(
        "--raspend-auth",
        action="store_true",
        help="require a token on raspend's routes too (default: open to the LAN as raspend was)",
    )
    raspend.add_argument("program", type=Path, help="the raspend program to run")
    raspend.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on to the program")
    _add_run_options(
        raspend,
        "the program's; none if it passes None",
        "0.0.0.0, every interface, as raspend did; 127.0.0.1 keeps it to this machine",
    )

    _add_history_commands(sub)
    _add_device_commands(sub)
    _add_service_commands(sub)
    _add_auth_commands(sub)
    _add_notify_commands(sub)
    return parser


# -- notification channels (issue 13) -------------------------------------------------


def _add_notify_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    notify = sub.add_parser(
        "notify",
        help="try a notification channel URL",
        description="Notification channels (docs/alerts.md). URLs are apprise's: mailto://, ntfy://, "
        "tgram://, json://... (needs pip install 'roost[alerts]').",
    )
    actions = notify.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test",
        help="send a test message to URL; exit 0 when it went through",
        description="Send a test message to URL and say whether the service took it. Exit status 0: "
        "sent; 1: the service refused, failed or did not answer; 2: URL unusable or apprise missing. "
        "The URL's secrets are never printed.",
    )
    test.add_argument("url", metavar="URL", help="a channel URL; quote it for the shell")
    test.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="give up after this long (default 60)"
    )


def _run_notify(args: argparse.Namespace) -> int:
    from roost.rules.tool import SENT, notify_test

    status, line = notify_test(args.url, args.timeout)
    print(
        line if status == SENT else f"roost notify: {line}", file=sys.stdout if status == SENT else sys.stderr
    )
    return status


# -- running as a service, backups (issue 14) ------------------------------------------


def _add_service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    service = sub.add_parser(
        "service",
        help="run a program at boot under systemd",
        description="Write a systemd unit that runs PROGRAM.py at boot, restarts it on failure, "
        "feeds systemd's watchdog from the node's health, and keeps it away from the rest of the "
        "system. See docs/operations.md.",
    )
    actions = service.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    install = actions.add_parser("install", help="write the unit roost-NAME.service")
    install.add_argument("program", type=Path, help="the Python file to run")
    install.add_argument(
        "--user", default=None, help="the account to run as (default root; better a user of its own)"
    )
    install.add_argument("--name", default=None, help="the service's name (default the program's file name)")
    install.add_argument(
        "--data-dir", type=Path, default=None, help="the node's data directory (default /var/lib/roost/NAME)"
    )
    install.add_argument("--host", default=None, help="address to listen on (default the program's)")
    install.add_argument("--port", type=int, default=None, help="TCP port (default the program's)")
    install.add_argument(
        "--memory-limit-mb",
        type=float,
        default=None,
        help="restart the node cleanly when its resident memory passes this (default: no limit)",
    )
    install.add_argument(
        "--unit-dir", type=Path, default=None, help="where to write it (default /etc/systemd/system)"
    )
    install.add_argument("--print", action="store_true", help="print the unit instead of writing it")

    backup = sub.add_parser(
        "backup",
        help="copy a node's data directory, consistently, while it runs",
        description="Write a consistent copy of the data directory into DIR: SQLite databases through "
        "SQLite's online backup (history.db from the running node over HTTP, since the node holds it "
        "exclusively), other files as they are. Restore: stop the node, copy the files back.",
    )
    backup.add_argument(
        "dir", type=Path, metavar="DIR", help="where to write the copy (created; must be empty)"
    )
    backup.add_argument(
        "--url", default="http://127.0.0.1:8080", help="the running node (default %(default)s)"
    )
    backup.add_argument(
        "--token", default=os.environ.get("ROOST_TOKEN"), help="an admin token (default $ROOST_TOKEN)"
    )
    _add_node_options(backup)


def _run_service(args: argparse.Namespace) -> int:
    from roost import service

    spec = service.ServiceSpec(
        program=args.program,
        name=args.name or args.program.stem,
        user=args.user,
        data_dir=args.data_dir.resolve() if args.data_dir else None,
        host=args.host,
        port=args.port,
        memory_limit_mb=args.memory_limit_mb,
    )
    try:
        if args.print:
            sys.stdout.write(service.render_unit(spec))
            return 0
        path = service.install(spec, args.unit_dir or service.UNIT_DIR)
    except (OSError, ValueError) as exc:
        print(f"roost: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}; now:")
    print(f"  systemctl daemon-reload && systemctl enable --now {spec.unit_name}")
    print(f"  journalctl -u {spec.unit_name} -f      # its log")
    return 0


def _run_backup(args: argparse.Namespace) -> int:
    from roost import backup

    data_dir = args.data_dir or app_module.default_data_dir(args.node)
    try:
        copied = backup.backup(data_dir, args.dir, args.url, args.token)
    except backup.BackupError as exc:
        print(f"roost: {exc}", file=sys.stderr)
        return 2
    for name, how in copied:
        print(f"{name}: {how}")
    print(f"backup of {data_dir} written to {args.dir}")
    return 0


# -- users and tokens (issue 10) -----------------------------------------------------------


def _add_node_options(parser: argparse.ArgumentParser, *, name_alias: bool = True) -> None:
    """Add --data-dir and --node (also spelled --name where the command has no --name of its own)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the node's data directory (default $ROOST_DATA_DIR or ~/.local/share/roost/NODE)",
    )
    flags = ("--node", "--name") if name_alias else ("--node",)
    parser.add_argument(
        *flags, dest="node", default="roost", help="the node's name, for the default data directory"
    )


def _add_auth_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser(
        "user",
        help="add, change, list or remove the users who sign in to the page",
        description="Manage a node's users (stored hashed in auth.db in the data directory); "
        "works while the node runs. See docs/security.md.",
    )
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user", description="Add a user; asks for the password.")
    add.add_argument("name")
    level = add.add_mutually_exclusive_group()
    level.add_argument("--admin", action="store_true", help="may change settings, users and tokens")
    level.add_argument(
        "--scope", choices=["read", "control", "admin"], default="control", help="default control"
    )
    passwd = actions.add_parser(
        "passwd", help="change a password", description="Change a password; the user's sessions end."
    )
    passwd.add_argument("name")
    for action in (add, passwd):
        action.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
    actions.add_parser("list", help="list users and their scopes")
    remove = actions.add_parser("remove", help="remove a user and end their sessions")
    remove.add_argument("name")
    for action in actions.choices.values():
        _add_node_options(action, name_alias=False)  # `roost user add NAME` names a user

    token = sub.add_parser(
        "token",
        help="create, list or revoke scoped API tokens",
        description="Manage API tokens for scripts and other nodes (send as 'Authorization: Bearer "
        "TOKEN'). Only a hash is stored; the secret is printed once.",
    )
    tactions = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = tactions.add_parser("create", help="create a token and print its secret once")
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument("--scope", required=True, choices=["read", "control", "admin"])
    create.add_argument("--expires", default=None, help="e.g. 90d, 12h (default: never)")
    tactions.add_parser("list", help="list tokens (never their secrets)")
    revoke = tactions.add_parser("revoke", help="revoke a token by id or name")
    revoke.add_argument("token", metavar="ID_OR_NAME")
    for action in tactions.choices.values():
        _add_node_options(action, name_alias=False)  # `token create --name` names the token


def _run_auth(args: argparse.Namespace) -> int:
    from roost.auth import tool
    from roost.core.caller import Scope
    from roost.core.errors import RoostError

    data_dir = args.data_dir or app_module.default_data_dir(args.node)
    out = sys.stdout
    try:
        if args.command == "user":
            if args.user_command == "add":
                scope = Scope.ADMIN if args.admin else Scope.parse(args.scope)
                password = tool.read_password(args.password_stdin)
                return tool.user_add(data_dir, args.name, scope, password, out)
            if args.user_command == "passwd":
                return tool.user_passwd(data_dir, args.name, tool.read_password(args.password_stdin), out)
            if args.user_command == "list":
                return tool.user_list(data_dir, out)
            return tool.user_remove(data_dir, args.name, out)
        if args.token_command == "create":
            return tool.token_create(data_dir, args.name, Scope.parse(args.scope), args.expires, out)
        if args.token_command == "list":
            return tool.token_list(data_dir, out)
        return tool.token_revoke(data_dir, args.token, out)
    except RoostError as exc:
        print(f"roost: {exc}", file=sys.stderr)
        return 2


# -- history (issue 4): CSV in and out of a node's history database -------------------


# A time option's value that argparse would take for an option: `-2h`, `-7d`, `-1.5y`.
_TIME_OPTIONS = ("--from", "--to")
_RELATIVE_TIME = re.compile(r"^-\d")


class _HistoryParser(argparse.ArgumentParser):
    """Takes `--from -2h` as written: a relative time after a time option is its value."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        joined: list[str] = []
        for arg in sys.argv[1:] if args is None else args:
            if joined and joined[-1] in _TIME_OPTIONS and _RELATIVE_TIME.match(arg):
                joined[-1] = f"{joined[-1]}={arg}"
            else:
                joined.append(arg)
        return super().parse_known_args(joined, namespace)


def _add_history_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = sub.add_parser(
        "history",
        help="import or export recorded history as CSV",
        description="Import or export a node's history (the node must not be running).",
    )
    actions = history.add_subparsers(
        dest="history_command", metavar="ACTION", required=True, parser_class=_HistoryParser
    )
    imp = actions.add_parser(
        "import",
        help="import CSV files of path,timestamp,value rows",
        description="Import CSV rows `path,timestamp,value` (timestamp ISO 8601 or epoch seconds; "
        "a header line is optional). An interrupted import resumes; bad rows are reported by line "
        "and the good ones kept. Exit status 1 if some rows were bad.",
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE.csv", help="the CSV files to import")
    exp = actions.add_parser(
        "export",
        help="export history as CSV",
        description="Write history as CSV to standard output (or --output): raw samples as "
        "path,timestamp,value (importable again), rollups as path,timestamp,min,max,mean.",
    )
    exp.add_argument("--path", action="append", default=[], help="a series to export (repeat; default all)")
    exp.add_argument(
        "--from", dest="start", default=None, help="ISO 8601, epoch seconds or -7d (default: all)"
    )
    exp.add_argument("--to", dest="end", default=None, help="as --from (default: now)")
    exp.add_argument("--resolution", default="raw", choices=["raw", "5m", "1h", "1d"], help="default raw")
    exp.add_argument("--epoch", action="store_true", help="timestamps as epoch seconds, not ISO 8601")
    exp.add_argument("-o", "--output", type=Path, default=None, help="write to this file")
    for action in (imp, exp):
        _add_node_options(action)
        action.add_argument(
            "--timezone",
            default=None,
            help="zone of ISO times without an offset (default: the zone the history was made in)",
        )


def _run_history(args: argparse.Namespace) -> int:
    from roost.store import tool

    data_dir = args.data_dir or app_module.default_data_dir(args.node)
    if args.history_command == "import":
        return tool.import_files(data_dir, args.files, args.timezone)
    if args.output is None:
        try:
            return tool.export(
                data_dir,
                sys.stdout,
                args.path,
                args.start,
                args.end,
                args.resolution,
                args.epoch,
                args.timezone,
            )
        except BrokenPipeError:
            # The reader left (`| head`): stop quietly, as Unix tools do. Point stdout at
            # /dev/null so that the flush at exit does not fail once more.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
    with args.output.open("w", encoding="utf-8", newline="") as out:
        return tool.export(
            data_dir, out, args.path, args.start, args.end, args.resolution, args.epoch, args.timezone
        )


# -- devices (issue 11): settings as JSON, and Plugwise-2-py's configuration ----------


def _add_device_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser(
        "config",
        help="export or import device settings and schedules as JSON",
        description="Device settings, schedules and manual overrides of a node as one JSON document "
        "(docs/devices.md). Import while the node is stopped.",
    )
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    exp = actions.add_parser("export", help="write the settings as JSON to standard output or --output")
    exp.add_argument("-o", "--output", type=Path, default=None, help="write to this file")
    imp = actions.add_parser(
        "import",
        help="read settings from a JSON file (checked whole before anything is written)",
        description="Add the devices, schedules and overrides of FILE.json to the node's settings "
        "(--replace: instead of them). Nothing is written unless all of it is valid.",
    )
    imp.add_argument("file", type=Path, metavar="FILE.json")
    imp.add_argument("--replace", action="store_true", help="replace the settings instead of merging")
    for action in (exp, imp):
        _add_node_options(action)

    imports = sub.add_parser(
        "import",
        help="import another program's configuration (plugwise)",
        description="Import devices and schedules from another program's configuration.",
    )
    sources = imports.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    plugwise = sources.add_parser(
        "plugwise",
        help="Plugwise-2-py: pw-conf.json, pw-control.json, schedules/*.json, energy logs",
        description="Import the circles of a Plugwise-2-py configuration folder as devices (keeping "
        "their MAC for the Plugwise driver), its schedules, and with --logs DIR its energy logs into "
        "history. Run it while the node is stopped.",
    )
    plugwise.add_argument("config_dir", type=Path, metavar="CONFIG_DIR")
    plugwise.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="folder of pw-*.log energy logs (default CONFIG_DIR/logs if any)",
    )
    plugwise.add_argument("--no-logs", action="store_true", help="do not import energy logs")
    plugwise.add_argument(
        "--timezone", default=None, help="zone of the logs' local times (default: the system's)"
    )
    _add_node_options(plugwise)


def _run_device_command(args: argparse.Namespace) -> int:
    from roost.core.errors import RoostError
    from roost.devices import config

    data_dir = args.data_dir or app_module.default_data_dir(args.node)
    try:
        if args.command == "config" and args.config_command == "export":
            text = json.dumps(config.export_config(data_dir), indent=1, sort_keys=True) + "\n"
            if args.output is None:
                sys.stdout.write(text)
            else:
                args.output.write_text(text, encoding="utf-8")
            return 0
        if args.command == "config":
            counts = config.import_config(data_dir, config.read_json_file(args.file), replace=args.replace)
            print(f"imported {counts['devices']} devices and {counts['schedules']} schedules into {data_dir}")
            return 0
        return _import_plugwise(args, data_dir)
    except RoostError as exc:
        print(f"roost: {exc}", file=sys.stderr)
        return 1


def _import_plugwise(args: argparse.Namespace, data_dir: Path) -> int:
    import time

    from roost.devices import plugwise
    from roost.runtime.clock import resolve_timezone
    from roost.store.db import DB_FILE
    from roost.store.store import HistoryStore

    tz = resolve_timezone(args.timezone)
    logs = args.logs
    if logs is None and not args.no_logs and (args.config_dir / "logs").is_dir():
        logs = args.config_dir / "logs"
    report = plugwise.import_plugwise(args.config_dir, data_dir, None if args.no_logs else logs, tz)
    if report.samples:
        store = HistoryStore(data_dir / DB_FILE, tz)
        store.open()  # refuses (HistoryUnavailable) while the node runs
        try:
            store.ingest(report.samples, time.time())
        finally:
            store.close()
    print(report.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `roost` command; return the exit status."""
    args = build_parser().parse_args(argv)
    app_module.log_to_stderr(args.log_level)
    if args.command == "history":
        return _run_history(args)
    if args.command in ("config", "import"):
        return _run_device_command(args)
    if args.command in ("user", "token"):
        return _run_auth(args)
    if args.command == "service":
        return _run_service(args)
    if args.command == "backup":
        return _run_backup(args)
    if args.command == "notify":
        return _run_notify(args)
    if args.restart_on_memory_limit and args.memory_limit_mb is None:
        print("roost: --restart-on-memory-limit needs --memory-limit-mb", file=sys.stderr)
        return 2
    problem = _check_mqtt(args)
    if problem is not None:
        print(f"roost: {problem}", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("roost: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    options = app_module.RunOptions(
        args.host,
        args.port,
        args.data_dir,
        args.memory_limit_mb,
        args.restart_on_memory_limit,
        args.mqtt,
        args.mqtt_ca,
        args.mqtt_cert,
        args.mqtt_key,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        trusted_proxies=tuple(args.trusted_proxy),
        raspend_auth=getattr(args, "raspend_auth", False),
        allowed_origins=tuple(args.allow_origin),
    )
    if args.command == "demo":
        from roost.demo import build_demo

        app_module._cli_options = options
        build_demo().run()
        return 0
    if args.command == "raspend":
        return run_raspend_program(args.program, list(args.args), options)
    return run_program(args.program, list(args.args), options)


def run_program(program: Path, argv: list[str], options: app_module.RunOptions) -> int:
    """Execute a user program as `__main__` and run the App it creates."""
    status = _exec_program(program, argv, options)
    if status is not None:
        return status
    apps = [a for a in app_module.apps_created() if not a.ran]
    if not apps:
        if any(a.ran for a in app_module.apps_created()):
            return 0
        print(f"roost: {program} creates no roost App", file=sys.stderr)
        return 2
    apps[-1].run()
    return 0


def run_raspend_program(program: Path, argv: list[str], options: app_module.RunOptions) -> int:
    """Execute an unmodified raspend program with `import raspend` resolving to roost's."""
    from roost.compat.raspend.aliases import install_aliases

    install_aliases()  # for this process only: it ends with the program
    # RaspendApplication.run() blocks until the node stops; there is nothing to run after it.
    status = _exec_program(program, argv, options)
    return 0 if status is None else status


_namespaces: list[dict[str, object]] = []


def _exec_program(program: Path, argv: list[str], options: app_module.RunOptions) -> int | None:
    # Run the file as __main__ with its own argv; return an exit status if it failed.
    if not program.is_file():
        print(f"roost: no such program file: {program}", file=sys.stderr)
        return 2
    app_module._cli_options = options
    sys.argv = [str(program), *argv]
    sys.path.insert(0, str(program.resolve().parent))
    try:
        # Keep the program's namespace alive: it holds the App that may still need running.
        _namespaces.append(runpy.run_path(str(program), run_name="__main__"))
    except SystemExit:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            return 130
        print(f"roost: {program} failed: {_one_line(exc)}", file=sys.stderr)
        logging.getLogger("roost.cli").debug("traceback", exc_info=True)
        return 2
    return None


def _one_line(exc: BaseException) -> str:
    # Name the line of the user's file that failed, not roost's frames.
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.startswith(_PACKAGE_DIR) and "runpy" not in frame.filename:
            where = f" (at {Path(frame.filename).name}:{frame.lineno})"
            break
    return f"{type(exc).__name__}: {exc}{where}"


if __name__ == "__main__":
    sys.exit(main())
