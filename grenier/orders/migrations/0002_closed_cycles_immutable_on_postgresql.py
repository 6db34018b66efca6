"""On PostgreSQL the database refuses any change to a closed cycle: its row, its products (prices frozen at the
opening), its orders and their lines. The close itself writes the final quantities and amounts first and sets
``closed_at`` last, in one transaction, so it passes; nothing after it does.

(SQLite is the development default; there the rule is kept by the services alone.)
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION orders_refuse_closed(cycle bigint) RETURNS void AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM orders_ordercycle WHERE id = cycle AND closed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'order cycle % is closed: its orders are never changed', cycle
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION orders_cycle_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'order cycle % is closed: it is never changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION orders_by_cycle_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM orders_refuse_closed(OLD.cycle_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM orders_refuse_closed(NEW.cycle_id); RETURN NEW; END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION orders_line_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM orders_refuse_closed((SELECT cycle_id FROM orders_order WHERE id = OLD.order_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM orders_refuse_closed((SELECT cycle_id FROM orders_order WHERE id = NEW.order_id));
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGERS = """
CREATE TRIGGER orders_cycle_immutable BEFORE UPDATE OR DELETE ON orders_ordercycle
    FOR EACH ROW EXECUTE FUNCTION orders_cycle_guard();
CREATE TRIGGER orders_cycleproduct_immutable BEFORE INSERT OR UPDATE OR DELETE ON orders_cycleproduct
    FOR EACH ROW EXECUTE FUNCTION orders_by_cycle_guard();
CREATE TRIGGER orders_order_immutable BEFORE INSERT OR UPDATE OR DELETE ON orders_order
    FOR EACH ROW EXECUTE FUNCTION orders_by_cycle_guard();
CREATE TRIGGER orders_orderline_immutable BEFORE INSERT OR UPDATE OR DELETE ON orders_orderline
    FOR EACH ROW EXECUTE FUNCTION orders_line_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS orders_cycle_immutable ON orders_ordercycle;
DROP TRIGGER IF EXISTS orders_cycleproduct_immutable ON orders_cycleproduct;
DROP TRIGGER IF EXISTS orders_order_immutable ON orders_order;
DROP TRIGGER IF EXISTS orders_orderline_immutable ON orders_orderline;
DROP FUNCTION IF EXISTS orders_line_guard();
DROP FUNCTION IF EXISTS orders_by_cycle_guard();
DROP FUNCTION IF EXISTS orders_cycle_guard();
DROP FUNCTION IF EXISTS orders_refuse_closed(bigint);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS, params=None)
        schema_editor.execute(TRIGGERS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
