"""On PostgreSQL the database refuses to delete a decision or to change its result: only the state of its effect
(pending, applied, failed, with its summary or error) may move after the close.

(SQLite is the development default; there the rule is kept by the code alone.)
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION governance_decision_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a decision is never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.proposal_id, NEW.closed_at, NEW.electorate, NEW.participants, NEW.votes_for, NEW.votes_against,
        NEW.abstentions, NEW.quorum_met, NEW.adopted, NEW.reason)
       IS DISTINCT FROM
       (OLD.proposal_id, OLD.closed_at, OLD.electorate, OLD.participants, OLD.votes_for, OLD.votes_against,
        OLD.abstentions, OLD.quorum_met, OLD.adopted, OLD.reason) THEN
        RAISE EXCEPTION 'a decision''s result is never changed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER governance_decision_immutable BEFORE UPDATE OR DELETE ON governance_decision
    FOR EACH ROW EXECUTE FUNCTION governance_decision_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS governance_decision_immutable ON governance_decision;
DROP FUNCTION IF EXISTS governance_decision_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_bodies_proposals_ballots_decisions")]
    operations = [migrations.RunPython(forwards, backwards)]
