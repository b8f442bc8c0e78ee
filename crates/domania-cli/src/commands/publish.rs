//! Serving and publishing: the HTTP server, its tokens, the exports (PMTiles, any GDAL
//! format) and the MapLibre styles.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use domania_app::App;
use domania_app::tokens::Role;
use indicatif::{ProgressBar, ProgressStyle};

use super::json;
use crate::{Cli, Command, ExportCommand, RoleArg, TokenCommand};

/// How the server makes its links: `--public-url`, else from the request behind the trusted
/// proxies.
fn public_url(fixed: Option<&str>, trusted: &[String]) -> Result<domania_server::public_url::PublicUrl> {
    let fixed =
        fixed.map(domania_server::check_public_url).transpose().map_err(|e| anyhow::anyhow!("--public-url: {e}"))?;
    let trusted = trusted
        .iter()
        .map(|t| t.parse().map_err(|e: String| anyhow::anyhow!("--trusted-proxy: {e}")))
        .collect::<Result<_>>()?;
    Ok(domania_server::public_url::PublicUrl { fixed, trusted })
}

pub(super) fn run(cli: &Cli, app: App) -> Result<()> {
    match &cli.command {
        Command::Styles { out, source, rules } => {
            // No store is needed: without one (no file, a database without Domania's tables),
            // the built-in rules.
            let stored = if rules.is_none() && app.store_path().exists() {
                match app.stored_rules() {
                    Err(e) if e.code() == domania_app::ErrorCode::StoreMissing => None,
                    other => other?,
                }
            } else {
                None
            };
            let rules = match (rules, stored) {
                (Some(p), _) => domania_app::files::rules(Some(p))?,
                (None, Some(r)) => r,
                (None, None) => domania_app::files::rules(None)?,
            };
            std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            // A Domania server's tiles: its glyphs too, and with them the sections' and streets'
            // names (an archive has no glyphs beside it: its styles go without names).
            let glyphs = source
                .split_once("/tiles/")
                .filter(|(root, _)| root.starts_with("http://") || root.starts_with("https://"))
                .map(|(root, _)| format!("{root}/viewer/fonts/{{fontstack}}/{{range}}.pbf"));
            for name in domania_app::styles::names(&rules.rules) {
                let style = domania_app::styles::style(&rules.rules, &name, source, cli.language())
                    .expect("a listed style exists");
                let style = match &glyphs {
                    Some(g) => domania_app::styles::with_labels(style, g),
                    None => style,
                };
                let path = out.join(format!("{name}.json"));
                std::fs::write(&path, serde_json::to_string_pretty(&style)?)
                    .with_context(|| format!("writing {}", path.display()))?;
                crate::outln!("{}", path.display())?;
            }
            Ok(())
        }
        Command::Serve {
            bind,
            rules,
            private_reads,
            timeout,
            max_upload_mb,
            max_uploads,
            upload_disk_mb,
            tile_cache_mb,
            max_connections,
            header_timeout,
            body_timeout,
            shutdown_grace,
            basemap,
            basemap_attribution,
            read_replica,
            part,
            public_url: public_url_arg,
            trusted_proxy,
            cors_origin,
            snapshot_dir,
        } => {
            let basemap = basemap
                .as_deref()
                .map(|b| domania_app::territory::Basemap::new(b, basemap_attribution.clone()))
                .transpose()?;
            if part.as_ref().is_some_and(|p| {
                p.codes.is_none()
                    || !matches!(p.kind, domania_app::ScopeKind::Departement | domania_app::ScopeKind::Commune)
            }) {
                anyhow::bail!("--part: départements or communes with their codes, e.g. departement=75,92");
            }
            if let Some(r) = read_replica
                && !(matches!(r, domania_app::Location::Postgres(_))
                    && matches!(app.store_path(), domania_app::Location::Postgres(_)))
            {
                anyhow::bail!(
                    "--read-replica: a streaming replica of a PostGIS store, both given as PostgreSQL connection strings \
                     (--store {}, --read-replica {r})",
                    app.store_path()
                );
            }
            let app = app
                .with_replica(read_replica.clone())
                .with_served_scope(part.clone())
                .with_snapshot_dir(snapshot_dir.clone());
            // A rules file given wins; else the rules administrators saved in the store; else
            // the built-in ones.
            let rules = app.serving_rules(rules.as_deref())?;
            let options = domania_server::Options {
                bind: *bind,
                private_reads: *private_reads,
                limits: domania_server::Limits {
                    timeout: Duration::from_secs(*timeout),
                    max_upload_bytes: max_upload_mb.saturating_mul(1 << 20),
                    max_uploads: *max_uploads,
                    upload_disk_bytes: upload_disk_mb.saturating_mul(1 << 20),
                    tile_cache_bytes: tile_cache_mb.saturating_mul(1 << 20),
                    connections: domania_server::connections::ConnectionLimits {
                        max: *max_connections,
                        header_timeout: Duration::from_secs((*header_timeout).max(1)),
                        body_timeout: Duration::from_secs((*body_timeout).max(1)),
                        grace: Duration::from_secs(*shutdown_grace),
                    },
                },
                basemap,
                public_url: public_url(public_url_arg.as_deref(), trusted_proxy)?,
                cors_origins: cors_origin.clone(),
            };
            domania_server::run(app, rules, &options).map_err(|e| anyhow::anyhow!("{e}"))
        }
        Command::Export { what: ExportCommand::PmtilesSet { dir, departements, layers, minzoom, maxzoom, rules } } => {
            if minzoom > maxzoom {
                bail!("--minzoom {minzoom} is above --maxzoom {maxzoom}");
            }
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::PmtilesSetRequest {
                layers: layers.0.clone(),
                min_zoom: *minzoom,
                max_zoom: *maxzoom,
                out_dir: dir.clone(),
                departements: departements.clone(),
                fonts: domania_server::viewer::fonts(),
            };
            let pb = if cli.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
            pb.set_style(
                ProgressStyle::with_template("{msg} {elapsed_precise} [{bar:30}] {pos}/{len} tiles")
                    .expect("static template"),
            );
            let outcome = app.export_pmtiles_set(&req, &rules, &|dep, done, total| {
                pb.set_message(format!("département {dep}"));
                pb.set_length(total);
                pb.set_position(done);
            });
            pb.finish_and_clear();
            let o = outcome?;
            if cli.json {
                return json(&o);
            }
            for a in &o.archives {
                crate::outln!(
                    "{}: département {}, {} tiles, {:.1} MB, in {:.1} s",
                    a.outcome.out.display(),
                    a.departement,
                    a.outcome.tiles,
                    a.outcome.bytes as f64 / 1e6,
                    a.outcome.seconds
                )?;
            }
            crate::outln!(
                "{}: the index of {} archives; {} styles in {}; {:.1} s in all",
                o.index.display(),
                o.archives.len(),
                o.styles.len(),
                dir.join("styles").display(),
                o.seconds
            )
        }
        Command::Export { what: ExportCommand::Ogr { layer, out, driver, rules, date } } => {
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::OgrRequest { layer: *layer, out: out.clone(), driver: driver.clone() };
            let o = app.export_ogr(&req, &rules, date.unwrap_or_else(domania_app::files::today))?;
            if cli.json {
                json(&o)
            } else {
                crate::outln!("{}: {} {} features ({})", o.out.display(), o.features, o.layer, o.driver)
            }
        }
        Command::Export { what: ExportCommand::Pmtiles { out, layers, minzoom, maxzoom, rules } } => {
            if minzoom > maxzoom {
                bail!("--minzoom {minzoom} is above --maxzoom {maxzoom}");
            }
            let rules = domania_app::files::rules(rules.as_deref())?;
            let req = domania_app::export::PmtilesRequest {
                layers: layers.0.clone(),
                min_zoom: *minzoom,
                max_zoom: *maxzoom,
                out: out.clone(),
            };
            let pb = if cli.json { ProgressBar::hidden() } else { ProgressBar::new(0) };
            pb.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} tiles ({eta} left)")
                    .expect("static template"),
            );
            let outcome = app.export_pmtiles(&req, &rules, &|done, total| {
                pb.set_length(total);
                pb.set_position(done);
            });
            pb.finish_and_clear();
            let o = outcome?;
            if cli.json {
                json(&o)
            } else {
                crate::outln!(
                    "{}: {} tiles ({} distinct, {} empty left out), {:.1} MB, tiles median {} B, largest {} B, in {:.1} s ({:.1} s encoding)",
                    o.out.display(),
                    o.tiles,
                    o.contents,
                    o.empty,
                    o.bytes as f64 / 1e6,
                    o.median_tile_bytes,
                    o.max_tile_bytes,
                    o.seconds,
                    o.encode_seconds
                )?;
                if o.tiles_coarsened > 0 {
                    eprintln!(
                        "domania: {} tiles were drawn with a coarser outline (up to {}x the tolerance) to stay under {} kB",
                        o.tiles_coarsened,
                        domania_app::export::COARSEST,
                        domania_app::export::max_tile_bytes() / 1000
                    );
                }
                if o.tiles_over_budget > 0 {
                    let what: Vec<String> = o.dropped_features.iter().map(|(l, n)| format!("{n} {l}")).collect();
                    eprintln!(
                        "domania: {} tiles were still over {} kB; their smallest features were left out: {}",
                        o.tiles_over_budget,
                        domania_app::export::max_tile_bytes() / 1000,
                        what.join(", ")
                    );
                }
                Ok(())
            }
        }
        Command::Token { what } => match what {
            TokenCommand::Create { name, role, bound } => {
                let role = match role {
                    RoleArg::Viewer => Role::Viewer,
                    RoleArg::Reporter => Role::Reporter,
                    RoleArg::Editor => Role::Editor,
                    RoleArg::Admin => Role::Admin,
                };
                let bound = bound.as_deref().map(domania_app::tokens::Bound::parse).transpose()?;
                let grant = domania_app::tokens::Grant { role, bound };
                let secret = app.create_bound_token(name, &grant)?;
                eprintln!("domania: token {name:?} ({}) created; its secret is shown only now", grant.stored());
                crate::outln!("{secret}")
            }
            TokenCommand::List => {
                let tokens = app.tokens()?;
                if cli.json {
                    return json(&tokens);
                }
                for t in &tokens {
                    let state = t.revoked_at.as_deref().map_or_else(|| "live".to_owned(), |r| format!("revoked {r}"));
                    crate::outln!("{:<24} {:<7} created {}  {state}", t.name, t.role, t.created_at)?;
                }
                Ok(())
            }
            TokenCommand::Revoke { name } => {
                app.revoke_token(name)?;
                eprintln!("domania: token {name:?} revoked");
                Ok(())
            }
        },
        _ => unreachable!("a command of serving and publishing"),
    }
}
