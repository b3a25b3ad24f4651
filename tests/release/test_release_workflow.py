"""The release workflow end to end: who may ask, who may decide, what is written where,
what the audit log holds."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pytest
from release_tables import crosstab

from bastide.disclosure import Output, Profile, Profiles
from bastide.governance import PermissionDenied
from bastide.release import (
    ReleaseError,
    ReleaseNotFound,
    ReleaseRefused,
    Releases,
    released_files,
)
from bastide.release import files as release_files

CELLS = {("F", "young"): 7, ("F", "old"): 40, ("M", "young"): 25, ("M", "old"): 30}


def _output(name: str = "by_sex_age", cells=CELLS) -> Output:
    return Output.of(name, crosstab(cells), dims=("sex", "age"))


def _entries(gov, action: str):
    return [e for e in gov.audit.entries(None, newest_first=False) if e.action == action]


def test_a_member_requests_and_another_steward_approves(gov, people, project, releases):
    view = releases.request(people.rob, project, _output(), "Table 1 of the paper")
    assert (view.state, view.status.value, view.requester) == ("pending", "pass", "rob")
    assert view.record.justification == "Table 1 of the paper"
    pending = release_files.pending_dir(gov.hub, project, view.id)
    assert sorted(p.name for p in pending.iterdir()) == [
        "original.parquet",
        "original.schema",
        "record.json",
        "released.parquet",
        "released.schema",
    ]
    assert not release_files.released_dir(gov.hub, project, view.id).exists()

    approved = releases.review(people.stella, view.id, approve=True, note="fine")
    assert (approved.state, approved.decided_by) == ("approved", "stella")
    csv_path, record_path = released_files(approved)
    assert csv_path.parent == gov.hub.root / "releases" / project / str(view.id)
    csv = csv_path.read_bytes()
    assert hashlib.sha256(csv).hexdigest() == approved.released_sha256
    assert approved.record_sha256 == hashlib.sha256(record_path.read_bytes()).hexdigest()
    # The released table: the 7 and its partners suppressed, margins published.
    released = pa.csv.read_csv(csv_path)
    assert released.num_rows == 9
    hidden = [r for r in released.to_pylist() if r["count"] is None]
    assert len(hidden) == 4
    # The audit log holds the hashes of what left, with the decision.
    entry = _entries(gov, "review_release")[-1]
    details = json.loads(entry.details)
    assert entry.outcome == "succeeded" and entry.object == f"release:{view.id}"
    assert details["released_sha256"] == approved.released_sha256
    assert details["record_sha256"] == approved.record_sha256
    assert details["to_state"] == "approved"
    request = [e for e in _entries(gov, "release_output") if e.outcome == "succeeded"][-1]
    assert json.loads(request.details)["output_sha256"] == view.original_sha256
    assert gov.audit.verify().ok


def test_the_record_written_out_holds_no_suppressed_value(gov, people, project, releases):
    view = releases.request(people.rob, project, _output(), "Table 1")
    approved = releases.review(people.sam, view.id, approve=True)
    record = json.loads(released_files(approved)[1].read_text())
    assert record["status"] == "pass" and record["decided_by"] == "sam"
    assert {c["check"] for c in record["checks"]} >= {"threshold", "secondary_suppression"}

    def numbers(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from numbers(v)
        elif isinstance(value, list):
            for v in value:
                yield from numbers(v)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield value

    hidden_values = {7, 40, 25, 30}  # the four suppressed cells
    assert not hidden_values & set(numbers(record))
    reasons = " ".join(c["reason"] for c in record["checks"])
    assert not any(f" {v} " in f" {reasons} " for v in map(str, hidden_values))


def test_a_rejected_output_is_not_written_out(gov, people, project, releases):
    view = releases.request(people.rita, project, _output(), "exploratory")
    rejected = releases.review(people.stella, view.id, approve=False, note="not needed")
    assert rejected.state == "rejected" and rejected.path is None
    assert not (gov.hub.root / "releases").exists()
    assert release_files.pending_dir(gov.hub, project, view.id).is_dir()  # stays inside
    assert json.loads(_entries(gov, "review_release")[-1].details)["to_state"] == "rejected"


def test_no_one_approves_their_own_release(gov, people, project, releases):
    view = releases.request(people.vera, project, _output(), "for the report")
    with pytest.raises(PermissionDenied, match="asked for this release and may not decide"):
        releases.review(people.vera, view.id, approve=True)
    denied = _entries(gov, "review_release")[-1]
    assert (denied.outcome, denied.actor) == ("denied", "vera")
    assert "review_release/not_output_requester" in denied.details
    # Another steward may; vera may decide on a release she did not ask for.
    releases.review(people.stella, view.id, approve=True)
    other = releases.request(people.rob, project, _output("again"), "again")
    assert releases.review(people.vera, other.id, approve=False).state == "rejected"


def test_only_members_request_and_only_stewards_decide(gov, people, project, releases):
    with pytest.raises(PermissionDenied, match="not a member of this project"):
        releases.request(people.ron, project, _output(), "curious")
    with pytest.raises(PermissionDenied, match="needs the role researcher"):
        releases.request(people.stella, project, _output(), "curious")
    assert [e.outcome for e in _entries(gov, "release_output")] == ["denied", "denied"]
    view = releases.request(people.rita, project, _output(), "paper")
    for who in (people.rob, people.olga, people.audrey):
        with pytest.raises(PermissionDenied, match="needs the role steward"):
            releases.review(who, view.id, approve=True)


def test_releases_need_an_active_project(gov, people, project, releases):
    view = releases.request(people.rita, project, _output(), "paper")
    gov.revoke_project(people.stella, project)
    with pytest.raises(PermissionDenied, match="needs a project that is active"):
        releases.request(people.rita, project, _output("later"), "paper")
    with pytest.raises(PermissionDenied, match="needs a project that is active"):
        releases.review(people.sam, view.id, approve=True)


def test_a_decision_is_final_and_failed_checks_cannot_be_approved(gov, people, project, releases):
    view = releases.request(people.rita, project, _output(), "paper")
    releases.review(people.stella, view.id, approve=False)
    with pytest.raises(ReleaseRefused, match="already rejected"):
        releases.review(people.sam, view.id, approve=True)
    # A profile that makes differencing fail: 118 after 120.
    strict = _with_profile(gov, Profile("strict", threshold=11, differencing="fail"))
    first = strict.request(
        people.rita, project, Output.of("all", pa.table({"x": ["Total"], "count": [120]})), "n"
    )
    strict.review(people.stella, first.id, approve=True)
    second = strict.request(
        people.rita,
        project,
        Output.of("sub", pa.table({"x": ["Total"], "count": [118]}), population="sub"),
        "n",
    )
    assert second.status.value == "fail"
    with pytest.raises(ReleaseRefused, match="failed its automatic checks"):
        strict.review(people.stella, second.id, approve=True)
    assert not release_files.released_dir(gov.hub, project, second.id).exists()
    failed = _entries(gov, "review_release")[-1]
    assert (failed.outcome, json.loads(failed.details)) == ("failed", {"error": "ReleaseRefused"})


def _with_profile(gov, profile: Profile) -> Releases:
    """A release service whose only (and default) profile is ``profile``."""
    return Releases(gov, Profiles({profile.name: profile}, profile.name))


def test_checks_run_again_before_approval(gov, people, project, releases):
    """Two pending requests that are each safe, but not together: once one is approved
    the other's checks change, and it cannot be approved as recorded."""
    one_way = Output.of("by_sex", pa.table({"sex": ["F", "M", "Total"], "count": [70, 50, 120]}))
    two_way = Output.of(
        "by_smoking",
        pa.table(
            {
                "sex": ["F", "F", "M", "M"],
                "smoker": ["yes", "no", "yes", "no"],
                "count": [65, 5, 20, 30],
            }
        ),
    )
    a = releases.request(people.rita, project, one_way, "paper")
    b = releases.request(people.rita, project, two_way, "paper")
    releases.review(people.stella, a.id, approve=True)
    with pytest.raises(ReleaseRefused, match="give another result"):
        releases.review(people.stella, b.id, approve=True)
    # Asked again, the new request suppresses the linked cell and goes to review.
    c = releases.request(people.rita, project, two_way, "paper")
    assert c.status.value == "review"
    assert releases.review(people.stella, c.id, approve=True).state == "approved"


def test_listing_and_showing(gov, people, project, releases):
    view = releases.request(people.rita, project, _output(), "paper")
    assert [v.id for v in releases.list(people.rob, project)] == [view.id]
    assert releases.show(people.audrey, view.id).record.output == "by_sex_age"
    with pytest.raises(PermissionDenied):
        releases.list(people.ron, project)
    with pytest.raises(ReleaseNotFound):
        releases.review(people.stella, 999, approve=True)
    with pytest.raises(ReleaseError, match="needs a justification"):
        releases.request(people.rita, project, _output(), "  ")


def test_a_tampered_pending_output_is_not_released(gov, people, project, releases):
    view = releases.request(people.rita, project, _output(), "paper")
    other = releases.request(people.rita, project, _output("x", {**CELLS, ("F", "old"): 41}), "p")
    pending = release_files.pending_dir(gov.hub, project, view.id)
    swapped = release_files.pending_dir(gov.hub, project, other.id)
    for name in ("original.parquet", "original.schema"):
        (pending / name).write_bytes((swapped / name).read_bytes())
    with pytest.raises(ReleaseError, match="does not match its hash"):
        releases.review(people.stella, view.id, approve=True)
    assert not release_files.released_dir(gov.hub, project, view.id).exists()
