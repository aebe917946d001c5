"""Full-text search vectors of tickets (subject, description, every message) and articles, kept by triggers.

Triggers rather than services, for the reason customers 0003 gives: rows are written in many ways (admin,
bulk demo data, factories, API). They name tables through TG_TABLE_SCHEMA, so they work whatever the
search_path and survive django-tenants' schema cloning.

* A ticket computes its vector when inserted, or when an UPDATE sets subject, a description or search_vector
  (Django's full save() sets every column, so a stale in-memory vector is never written back).
* A statement that inserts, changes or deletes messages re-saves the tickets concerned with a NULL vector,
  which lets the ticket trigger rebuild them: the recipe lives in one function.

English stemming ("printing" finds "printer"), weights A subject, B description, C messages: ts_rank orders
a subject hit first.
"""

from django.db import migrations

TICKET_FUNCTION = r"""
CREATE FUNCTION helpdesk_ticket_search_vector() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    thread text;
BEGIN
    IF TG_OP = 'UPDATE' THEN  -- a new ticket has no messages yet
        EXECUTE format(
            'SELECT string_agg(body, chr(10) ORDER BY id) FROM %I.helpdesk_ticketmessage WHERE ticket_id = $1',
            TG_TABLE_SCHEMA
        ) INTO thread USING NEW.id;
    END IF;
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.subject, '')), 'A')
        || setweight(to_tsvector('english', concat_ws(chr(10), NEW.improved_description, NEW.original_description)), 'B')
        || setweight(to_tsvector('english', coalesce(left(thread, 200000), '')), 'C');
    RETURN NEW;
END
$body$;

CREATE TRIGGER ticket_search_vector
    BEFORE INSERT OR UPDATE OF subject, original_description, improved_description, search_vector
    ON helpdesk_ticket FOR EACH ROW EXECUTE FUNCTION helpdesk_ticket_search_vector();
"""

MESSAGE_FUNCTION = r"""
CREATE FUNCTION helpdesk_message_search_vector() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    tickets text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        tickets := 'SELECT ticket_id FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        tickets := 'SELECT ticket_id FROM old_rows';
    ELSE
        tickets := 'SELECT n.ticket_id FROM old_rows o JOIN new_rows n USING (id) WHERE o.body IS DISTINCT FROM n.body';
    END IF;
    EXECUTE format(
        'UPDATE %I.helpdesk_ticket SET search_vector = NULL WHERE id IN (' || tickets || ')', TG_TABLE_SCHEMA
    );
    RETURN NULL;
END
$body$;

CREATE TRIGGER message_search_vector_insert
    AFTER INSERT ON helpdesk_ticketmessage REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_message_search_vector();
CREATE TRIGGER message_search_vector_update
    AFTER UPDATE ON helpdesk_ticketmessage REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_message_search_vector();
CREATE TRIGGER message_search_vector_delete
    AFTER DELETE ON helpdesk_ticketmessage REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_message_search_vector();
"""

ARTICLE_FUNCTION = r"""
CREATE FUNCTION helpdesk_article_search_vector() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english', array_to_string(NEW.tags, ' ')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.body, '')), 'C');
    RETURN NEW;
END
$body$;

CREATE TRIGGER article_search_vector
    BEFORE INSERT OR UPDATE OF title, body, tags, search_vector
    ON helpdesk_article FOR EACH ROW EXECUTE FUNCTION helpdesk_article_search_vector();
"""


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [
        migrations.RunSQL(TICKET_FUNCTION, reverse_sql="DROP FUNCTION helpdesk_ticket_search_vector() CASCADE"),
        migrations.RunSQL(MESSAGE_FUNCTION, reverse_sql="DROP FUNCTION helpdesk_message_search_vector() CASCADE"),
        migrations.RunSQL(ARTICLE_FUNCTION, reverse_sql="DROP FUNCTION helpdesk_article_search_vector() CASCADE"),
    ]
