"""Create the demo's Airflow users (FAB auth manager), idempotently, with passwords kept in a file only its owner reads.

    python scripts/demo_users.py --file $AIRFLOW_HOME/databridge_users.json

Users: ``admin`` (role Admin: designs and runs) and ``viewer`` (role Viewer: only looks). Passwords are generated on
the first run and kept in the file; later runs reuse them and make each user's password match the file again.
Only the file's path is printed, never a password.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path

USERS = {"admin": "Admin", "viewer": "Viewer"}


def passwords(path: Path) -> dict[str, str]:
    """The passwords already in the file, plus new ones for users it lacks."""
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {name: str(known.get(name, {}).get("password") or secrets.token_urlsafe(18)) for name in USERS}


def write_private(path: Path, data: dict[str, dict[str, str]]) -> None:
    """Write the file with mode 600 from the start (never readable by others, even briefly)."""
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def ensure_users(secret: dict[str, str]) -> None:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        for name, role in USERS.items():
            user = sm.find_user(username=name)
            if user is None:
                if not sm.add_user(
                    name, name, "DataBridge", f"{name}@databridge.invalid", sm.find_role(role), password=secret[name]
                ):
                    raise SystemExit(f"demo_users: could not create user {name!r}")
            else:
                user.roles = [sm.find_role(role)]
                sm.update_user(user)
                sm.reset_password(user.id, secret[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True, help="JSON file of the users and their passwords")
    path = parser.parse_args().file
    secret = passwords(path)
    write_private(path, {name: {"role": USERS[name], "password": secret[name]} for name in USERS})
    ensure_users(secret)
    print(f"users admin (Admin) and viewer (Viewer); passwords in {path}")


if __name__ == "__main__":
    main()
