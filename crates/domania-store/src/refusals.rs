//! The words of a refused save, the same for a GeoPackage's triggers and a database's views:
//! French (the officers who save are), written inside SQL string literals (quotes doubled).

use crate::layer::Layer;

/// What a refused save is called.
pub(crate) fn noun(layer: Layer) -> &'static str {
    match layer {
        Layer::Qpv => "un QPV",
        Layer::Conventions => "une convention",
        _ => "un sous-secteur",
    }
}

/// A feature saved without its key.
pub(crate) fn no_key(layer: Layer) -> String {
    format!(
        "{} sans clé (champ key) ne peut pas être enregistré. Donnez-lui sa clé, puis enregistrez à nouveau.",
        noun(layer)
    )
}

/// A feature saved without a shape.
pub(crate) fn no_shape(layer: Layer) -> String {
    format!("{} sans géométrie ne peut pas être enregistré. Dessinez son contour.", noun(layer))
}

/// A deletion past the removal guard; `percent` is the per-cent sign as the SQL message takes
/// it (`%%` in PostgreSQL's `RAISE`, where `%` is a placeholder).
pub(crate) fn too_many(max_removed: f64, percent: &str) -> String {
    format!(
        "supprimer autant d''entités d''un coup ({} {percent} au plus de la couche) ressemble à une erreur. \
         Si c''est voulu, importez la couche entière avec Domania (domania import, option --force).",
        max_removed * 100.0
    )
}
