"""The staging leases as an operator sees them from the command line: listed with their verdict, released by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError
from databridge.runtime.lease import BY_HAND, LEASES, Lease, judge, no_word, read, read_all


@dataclass(frozen=True)
class LeaseState:
    lease: Lease
    state: str
    """live, stale or released."""
    why: str


def lease_states(target: PostgresTarget) -> list[LeaseState]:
    """Every pipeline's lease in a target, judged as a run meeting it would (without Airflow's word)."""
    with target.transaction("reading the staging leases") as cur:
        if cur.execute("SELECT to_regclass(%s) IS NULL", (LEASES,)).fetchone() == (True,):
            return []
        return [_state(cur, lease) for lease in read_all(cur)]


def _state(cur: Any, lease: Lease) -> LeaseState:
    if lease.released_at is not None:
        note = lease.note or ""
        return LeaseState(
            lease,
            "released",
            note if note.startswith(BY_HAND) else "; ".join(filter(None, ["released by its report stage", note])),
        )
    verdict = judge(cur, lease, no_word)
    return LeaseState(lease, "live" if verdict.live else "stale", verdict.why)


def release_by_hand(target: PostgresTarget, project: str, pipeline: str, reason: str, *, force: bool, by: str) -> Lease:
    """Release a pipeline's lease, recording who and why; a live holder's only with ``force``. Returns it as it was."""
    with target.transaction(f"releasing the staging lease of pipeline {pipeline} of project {project}") as cur:
        lease = (
            read(cur, project, pipeline)
            if cur.execute("SELECT to_regclass(%s)", (LEASES,)).fetchone() != (None,)
            else None
        )
        if lease is None:
            raise DataBridgeError(
                f"no staging lease of pipeline {pipeline} of project {project} in that database; `leases` lists "
                "the leases there are"
            )
        if lease.released_at is not None:
            raise DataBridgeError(
                f"the staging lease of pipeline {pipeline} of project {project} was already released at "
                f"{lease.released_at:%Y-%m-%d %H:%M:%S} UTC ({lease.note or 'by its report stage'})"
            )
        verdict = judge(cur, lease, no_word)
        if verdict.live and not force:
            raise DataBridgeError(
                f"run {lease.run_id!r} holding pipeline {pipeline} of project {project} is live: {verdict.why}; "
                "nothing was released. Wait for that run to end, or add --force if you know it has stopped (a stage "
                "still running would then lose its staging to the next run)"
            )
        note = f"{BY_HAND} by {by}: {reason}" + (f" (forced: {verdict.why})" if verdict.live else "")
        cur.execute(
            f"UPDATE {LEASES} SET released_at = now(), note = %s WHERE project = %s AND pipeline = %s",
            (note, project, pipeline),
        )
    return lease
