"""``bastide audit verify`` names the first bad entry and exits 1; ``show`` lists entries."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance
from bastide.hub import Hub


def test_verify_and_show(hub: Hub) -> None:
    with Governance(hub) as gov:
        olga = gov.add_user(None, "olga", ["operator"])
        gov.add_user(olga, "audrey", ["auditor"])
        gov.record_snapshot(olga, "v1", {"person": 10}, "snds")
        engine = gov.store.engine
        runner = CliRunner()
        env = {"BASTIDE_HUB": str(hub.root), "BASTIDE_USER": "audrey"}

        ok = runner.invoke(app, ["audit", "verify"], env=env)
        assert ok.exit_code == 0, ok.output
        # three actions; the verification is recorded once it is done
        assert "OK: 3 entries, chain intact, signed head at 3" in ok.output
        shown = runner.invoke(app, ["audit", "show", "--limit", "3"], env=env)
        assert shown.exit_code == 0 and "read_audit" in shown.output and "ingest" in shown.output

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            else:
                conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'audrey' WHERE seq = 3"))
        bad = runner.invoke(app, ["audit", "verify"], env=env)
        assert bad.exit_code == 1
        assert "TAMPERED: entry 3: its content does not match its hash" in bad.output
        last = gov.audit.entries(1)[0]
        assert (last.action, last.outcome) == ("read_audit", "succeeded")
        recorded = {"entries": 2, "first_bad_seq": 3, "ok": False, "rule": "read_audit"}
        assert last.details_dict == recorded
