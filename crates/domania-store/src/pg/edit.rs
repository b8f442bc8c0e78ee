//! Editing a database store in QGIS: the views of schema `domania_edit`, one per edited layer
//! (`domania_edit.subsectors`…), which QGIS opens with its PostgreSQL provider and saves into.
//!
//! Domania's own tables keep their guard: a view's triggers write nothing there. They check a
//! save (a key, a shape, PostGIS's `ST_IsValid`, the removal guard, a feature another officer's
//! save changed) and refuse it with words QGIS shows; what passes goes to the journal
//! `domania_edit.journal`, one entry per row, with its transaction and its role, and is
//! announced at commit. A Domania that follows the store (a server, or the next command) makes
//! each saving transaction a version through the import pipeline, with the journal entries
//! removed in the same transaction ([`take`]).
//!
//! Optimistic concurrency: a new version of a drawn feature is a new row with a new `fid`, the
//! views' key. An officer who loaded the feature before saves to a `fid` that is gone: his
//! statement changes no row, and the statement trigger refuses it. A save of a feature whose
//! earlier save by another transaction waits in the journal is refused as well.

use std::fmt::Write as _;

use postgres::GenericClient;

use crate::error::{Result, StoreError};
use crate::layer::Layer;
use crate::model::{SavedEdit, SavedOp, StoredPerimeter};
use crate::refusals;

/// The schema of the editable views.
pub const SCHEMA: &str = "domania_edit";

/// The payload announcing saves into the views (servers make them versions).
pub const EDITS_SAVED: &str = "edits:saved";

/// The schema, the journal, and each edited layer's view with its triggers (idempotent; run
/// by the migration, under the writers' lock).
pub(super) fn ddl(max_removed: f64) -> String {
    let mut ddl = format!(
        "CREATE SCHEMA IF NOT EXISTS {SCHEMA};
         COMMENT ON SCHEMA {SCHEMA} IS 'Couches que les SIG modifient dans QGIS : chaque enregistrement devient une version de Domania.';
         CREATE TABLE IF NOT EXISTS {SCHEMA}.journal (
           id bigserial PRIMARY KEY, xid bigint NOT NULL DEFAULT txid_current(), layer text NOT NULL, op text NOT NULL,
           old_key text, fid bigint, key text, name text, properties text, geom geometry(MultiPolygon, 2154),
           author text NOT NULL DEFAULT session_user, saved_at timestamptz NOT NULL DEFAULT clock_timestamp());
         CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.new_fid MINVALUE -9223372036854775808 MAXVALUE -1 START -1 INCREMENT -1;
         CREATE OR REPLACE FUNCTION {SCHEMA}.count_rows() RETURNS trigger LANGUAGE plpgsql AS $c$
         BEGIN
           PERFORM set_config('domania.saved_rows', '0', true);
           RETURN NULL;
         END $c$;
         CREATE OR REPLACE FUNCTION {SCHEMA}.check_rows() RETURNS trigger LANGUAGE plpgsql AS $c$
         BEGIN
           IF coalesce(nullif(current_setting('domania.saved_rows', true), ''), '0') = '0' THEN
             RAISE EXCEPTION 'Domania refuse cet enregistrement : l''entité enregistrée a changé ou a été supprimée depuis que vous l''avez chargée (une autre modification est devenue une version). Rechargez la couche, puis refaites votre modification.'
               USING ERRCODE = 'serialization_failure';
           END IF;
           RETURN NULL;
         END $c$;"
    );
    for layer in Layer::ALL.into_iter().filter(|l| l.is_edited()) {
        let t = layer.table();
        let what = refusals::noun(layer);
        let refuse = |why: &str| format!("RAISE EXCEPTION 'Domania refuse cet enregistrement : {why}'");
        let refuse_with =
            |why: &str, arg: &str| format!("RAISE EXCEPTION 'Domania refuse cet enregistrement : {why}', {arg}");
        let no_key = refuse(&refusals::no_key(layer));
        let taken = refuse_with(
            "la clé « % » est déjà prise dans la couche. Donnez une clé nouvelle à l''entité découpée ou créée.",
            "NEW.key",
        );
        let no_shape = refuse(&refusals::no_shape(layer));
        let invalid = refuse_with(
            "la géométrie n''est pas valide (%). Corrigez-la (Vecteur > Outils de géométrie > Vérifier la validité), \
             puis enregistrez à nouveau.",
            "ST_IsValidReason(NEW.geom)",
        );
        let changed = refuse_with(
            &format!(
                "{what} « % » a été modifié par un autre enregistrement depuis que vous l''avez chargé. \
                 Rechargez la couche, puis refaites votre modification."
            ),
            "OLD.key",
        );
        let too_many = refuse(&refusals::too_many(max_removed, "%%"));
        let _ = write!(
            ddl,
            "CREATE OR REPLACE VIEW {SCHEMA}.{t} AS SELECT fid, key, name, properties, geom FROM {t};
             ALTER VIEW {SCHEMA}.{t} ALTER COLUMN fid SET DEFAULT nextval('{SCHEMA}.new_fid');
             COMMENT ON VIEW {SCHEMA}.{t} IS 'La couche {t} de Domania, modifiable dans QGIS (clé : fid) : chaque enregistrement en devient une version.';
             CREATE OR REPLACE FUNCTION {SCHEMA}.save_{t}() RETURNS trigger LANGUAGE plpgsql AS $s$
             BEGIN
               PERFORM set_config('domania.saved_rows',
                 (coalesce(nullif(current_setting('domania.saved_rows', true), ''), '0')::int + 1)::text, true);
               IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM {SCHEMA}.journal
                   WHERE layer = '{t}' AND fid = OLD.fid AND xid <> txid_current()) THEN
                 {changed} USING ERRCODE = 'serialization_failure';
               END IF;
               IF TG_OP = 'DELETE' THEN
                 IF (SELECT count(*) FROM {SCHEMA}.journal WHERE layer = '{t}' AND op = 'delete' AND xid = txid_current()) + 1
                    > {max_removed} * (SELECT count(*) FROM {t}) THEN
                   {too_many};
                 END IF;
                 INSERT INTO {SCHEMA}.journal (layer, op, old_key, fid) VALUES ('{t}', 'delete', OLD.key, OLD.fid);
                 PERFORM pg_notify('{channel}', '{EDITS_SAVED}');
                 RETURN OLD;
               END IF;
               IF NEW.key IS NULL OR btrim(NEW.key) = '' THEN {no_key}; END IF;
               IF EXISTS (SELECT 1 FROM {t} WHERE key = NEW.key
                            AND (TG_OP = 'INSERT' OR key <> OLD.key))
                  OR EXISTS (SELECT 1 FROM {SCHEMA}.journal WHERE layer = '{t}' AND key = NEW.key
                               AND op = 'insert' AND xid = txid_current()) THEN
                 {taken};
               END IF;
               IF NEW.geom IS NULL OR ST_IsEmpty(NEW.geom) THEN {no_shape}; END IF;
               IF NOT ST_IsValid(NEW.geom) THEN {invalid}; END IF;
               IF TG_OP = 'INSERT' THEN
                 NEW.fid := coalesce(NEW.fid, nextval('{SCHEMA}.new_fid'));
               END IF;
               INSERT INTO {SCHEMA}.journal (layer, op, old_key, fid, key, name, properties, geom)
                 VALUES ('{t}', lower(TG_OP), CASE WHEN TG_OP = 'UPDATE' THEN OLD.key END,
                         CASE WHEN TG_OP = 'UPDATE' THEN OLD.fid ELSE NEW.fid END,
                         NEW.key, NEW.name, NEW.properties, ST_Multi(NEW.geom));
               PERFORM pg_notify('{channel}', '{EDITS_SAVED}');
               RETURN NEW;
             END $s$;
             DROP TRIGGER IF EXISTS save ON {SCHEMA}.{t};
             CREATE TRIGGER save INSTEAD OF INSERT OR UPDATE OR DELETE ON {SCHEMA}.{t}
               FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.save_{t}();
             DROP TRIGGER IF EXISTS count_rows ON {SCHEMA}.{t};
             CREATE TRIGGER count_rows BEFORE UPDATE OR DELETE ON {SCHEMA}.{t}
               FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_rows();
             DROP TRIGGER IF EXISTS check_rows ON {SCHEMA}.{t};
             CREATE TRIGGER check_rows AFTER UPDATE OR DELETE ON {SCHEMA}.{t}
               FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.check_rows();",
            channel = super::schema::CHANNEL,
        );
    }
    ddl
}

/// Whether the journal is there (a database made by an older Domania has none until its
/// migration).
pub(super) fn journal_exists(client: &mut impl GenericClient) -> Result<bool> {
    Ok(client.query_one(&format!("SELECT to_regclass('{SCHEMA}.journal') IS NOT NULL"), &[])?.get(0))
}

/// The saving transactions of `layer` waiting in the journal, oldest first.
pub(super) fn saved(client: &mut impl GenericClient, layer: Layer) -> Result<Vec<SavedEdit>> {
    if !journal_exists(client)? {
        return Ok(Vec::new());
    }
    let rows = client.query(
        &format!(
            "SELECT xid, author, op, old_key, key, name, properties, ST_AsBinary(geom) FROM {SCHEMA}.journal
             WHERE layer = $1 ORDER BY id"
        ),
        &[&layer.table()],
    )?;
    let mut out: Vec<SavedEdit> = Vec::new();
    for r in rows {
        let xid: i64 = r.get(0);
        let op = match r.get::<_, &str>(2) {
            "delete" => SavedOp::Delete { key: r.get(3) },
            op => {
                let wkb: Vec<u8> = r.get(7);
                let now = StoredPerimeter {
                    key: r.get(4),
                    name: r.get(5),
                    properties_json: r.get::<_, Option<String>>(6).unwrap_or_default(),
                    geom_l93: crate::blob::decode_wkb(&wkb)?,
                };
                match (op, r.get::<_, Option<String>>(3)) {
                    ("update", Some(key)) => SavedOp::Update { key, now },
                    ("insert", _) => SavedOp::Insert(now),
                    _ => return Err(StoreError::Corrupt(format!("a journal entry of {SCHEMA} reads {op}"))),
                }
            }
        };
        match out.last_mut() {
            Some(last) if last.token == xid => last.ops.push(op),
            _ => out.push(SavedEdit { token: xid, author: Some(r.get(1)), ops: vec![op] }),
        }
    }
    Ok(out)
}

/// Takes the journal entries of transaction `xid` (in the writer's transaction, so that they
/// go with the version made of them); false when another Domania took them first.
pub(super) fn take(client: &mut impl GenericClient, layer: Layer, xid: i64) -> Result<bool> {
    if !journal_exists(client)? {
        return Ok(false);
    }
    let n = client
        .execute(&format!("DELETE FROM {SCHEMA}.journal WHERE layer = $1 AND xid = $2"), &[&layer.table(), &xid])?;
    Ok(n > 0)
}
