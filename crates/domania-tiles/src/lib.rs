//! Mapbox Vector Tiles of Domania's layers: the protobuf wire format ([`pbf`]), the MVT 2.1
//! model with its encoder and a strict decoder ([`mvt`]), Web Mercator tiles with clipping and
//! quantisation ([`tile`]), the layers' shapes as shared arcs simplified once per zoom and
//! dissolved by actor ([`topo`]), the layers themselves ([`layers`]) and `PMTiles` v3
//! archives ([`pmtiles`]). No HTTP here: the server mounts it.

pub mod glyphs;
pub mod labels;
pub mod layers;
pub mod mvt;
pub mod pbf;
pub mod pmtiles;
pub mod tile;
pub mod topo;
