//! Mapbox Vector Tiles of Domania's layers: the protobuf wire format ([`pbf`]), the MVT 2.1
//! model with its encoder and a strict decoder ([`mvt`]), and Web Mercator tiles of Lambert-93
//! shapes with clipping and quantisation ([`tile`]). No HTTP here: the server mounts it.

pub mod layers;
pub mod mvt;
pub mod pbf;
pub mod pmtiles;
pub mod tile;
