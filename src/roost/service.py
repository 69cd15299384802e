"""`roost service install`: a systemd unit that starts a program at boot, restarts it, and fences it in."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_DIR = Path("/etc/systemd/system")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What the unit runs, as whom, and where its data lives."""

    program: Path
    name: str
    user: str | None = None
    data_dir: Path | None = None  # None: /var/lib/roost/NAME, made by systemd (StateDirectory=)
    host: str | None = None
    port: int | None = None
    memory_limit_mb: float | None = None
    python: str = sys.executable
    watchdog_s: int = 30

    @property
    def unit_name(self) -> str:
        """Return `roost-NAME.service`."""
        return f"roost-{self.name}.service"

    @property
    def state_dir(self) -> Path:
        """Return the data directory the node will use."""
        return self.data_dir or Path("/var/lib/roost") / self.name


def render_unit(spec: ServiceSpec) -> str:
    """Return the text of the systemd unit for `spec`."""
    if not _NAME.match(spec.name):
        raise ValueError(f"a service name of letters, digits, '_', '.' and '-', not {spec.name!r}")
    program = spec.program.resolve()
    argv = [spec.python, "-m", "roost", "run", "--data-dir", str(spec.state_dir)]
    if spec.host is not None:
        argv += ["--host", spec.host]
    if spec.port is not None:
        argv += ["--port", str(spec.port)]
    if spec.memory_limit_mb is not None:
        argv += ["--memory-limit-mb", f"{spec.memory_limit_mb:g}", "--restart-on-memory-limit"]
    argv.append(str(program))
    lines = [
        "# Written by `roost service install`; see docs/operations.md.",
        "[Unit]",
        f"Description=roost node {spec.name} ({program.name})",
        "Wants=network-online.target",
        "After=network-online.target time-sync.target",
        "",
        "[Service]",
        # READY=1 once serving; WATCHDOG=1 from the node's event loop while it is alive.
        "Type=notify",
        "NotifyAccess=main",
        f"WatchdogSec={spec.watchdog_s}",
        f"ExecStart={shlex.join(argv)}",
        f"WorkingDirectory={program.parent}",
        "Environment=PYTHONUNBUFFERED=1",
        # A crash, a withheld watchdog or the memory limit's exit status 75: start afresh.
        "Restart=on-failure",
        "RestartSec=5",
        # The node stops within about 6 s plus its final history commit (docs/operations.md).
        "TimeoutStopSec=30",
        "KillMode=mixed",
    ]
    if spec.user:
        lines += [f"User={spec.user}"]
    if spec.data_dir is None:
        lines += [f"StateDirectory=roost/{spec.name}", "StateDirectoryMode=0750"]
    lines += [
        "# Hardening: the whole file system read-only but the data directory.",
        "ProtectSystem=strict",
        # "-": a StateDirectory= is made by systemd as the service starts, after this is read.
        f"ReadWritePaths={'-' if spec.data_dir is None else ''}{spec.state_dir}",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectHostname=yes",
        "ProtectClock=yes",
        "RestrictSUIDSGID=yes",
        "RestrictRealtime=yes",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "# Devices stay visible (serial sticks, 1-Wire under /sys); for a USB stick add",
        "# SupplementaryGroups=dialout.",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def install(spec: ServiceSpec, unit_dir: Path = UNIT_DIR) -> Path:
    """Write the unit into `unit_dir` and return its path."""
    if not spec.program.is_file():
        raise FileNotFoundError(f"no such program file: {spec.program}")
    text = render_unit(spec)
    if spec.data_dir is not None and not spec.data_dir.exists():
        # ReadWritePaths= needs it to exist; it must belong to the account the node runs as.
        spec.data_dir.mkdir(parents=True, mode=0o750)
        if spec.user:
            shutil.chown(spec.data_dir, spec.user)
    path = unit_dir / spec.unit_name
    path.write_text(text)
    return path
