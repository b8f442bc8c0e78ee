//! API tokens of the HTTP server: created with a role, shown once, stored as a SHA-256 hash,
//! listed and revoked.

use std::io::Read as _;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::App;
use crate::error::{AppError, ErrorCode, Result};

/// What a token may do. Each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads.
    Viewer,
    /// Reads and posts reports of dysfunctions (communes, bailleurs, residents' relays).
    Reporter,
    /// Reads, posts reports, moves reports through their statuses and updates layers.
    Editor,
    /// Everything, rules and tokens included.
    Admin,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reporter => "reporter",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role of a name the store keeps.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Role::Viewer, Role::Reporter, Role::Editor, Role::Admin].into_iter().find(|r| r.as_str() == text)
    }
}

/// What a token is bound to: a service of the rules' directory (by its id) or an actor; a bound
/// token reads and moves only the reports routed there (a bailleur's agency its own queue, the
/// CU's technical centre its own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Service(String),
    Actor(domania_core::Actor),
}

impl Bound {
    /// `service:ID` or `actor:ACTOR`, as it is stored.
    #[must_use]
    pub fn as_text(&self) -> String {
        match self {
            Bound::Service(id) => format!("service:{id}"),
            Bound::Actor(a) => format!("actor:{}", a.as_str()),
        }
    }

    /// A binding as written (`service:cu-proprete`, `actor:bailleur_social`).
    ///
    /// # Errors
    /// An unknown kind or actor, or an empty service id.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            let actors: Vec<&str> = domania_core::Actor::ALL.iter().map(|a| a.as_str()).collect();
            AppError::said(
                ErrorCode::InvalidArgument,
                "error-token-binding",
                vec![("binding", text.to_owned().into()), ("actors", actors.join(", ").into())],
            )
        };
        match text.split_once(':') {
            Some(("service", id)) if !id.trim().is_empty() && !id.contains(['@', ':']) => {
                Ok(Bound::Service(id.trim().to_owned()))
            }
            Some(("actor", a)) => {
                domania_core::Actor::ALL.into_iter().find(|x| x.as_str() == a.trim()).map(Bound::Actor).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    /// Whether a report routed to `service_id` (of `actor`) is this binding's.
    #[must_use]
    pub fn holds(&self, service_id: Option<&str>, actor: domania_core::Actor) -> bool {
        match self {
            Bound::Service(id) => service_id == Some(id.as_str()),
            Bound::Actor(a) => *a == actor,
        }
    }
}

/// What a token may do, and where: its role, and what it is bound to (nothing: everywhere).
/// Stored in the token's role as `editor` or `editor@service:cu-proprete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub bound: Option<Bound>,
}

impl Grant {
    #[must_use]
    pub fn stored(&self) -> String {
        match &self.bound {
            None => self.role.as_str().to_owned(),
            Some(b) => format!("{}@{}", self.role.as_str(), b.as_text()),
        }
    }

    /// The grant a stored role says.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (role, bound) = match text.split_once('@') {
            Some((r, b)) => (r, Some(Bound::parse(b).ok()?)),
            None => (text, None),
        };
        Some(Self { role: Role::parse(role)?, bound })
    }
}

/// A token, as listed (never its secret).
pub use domania_store::TokenInfo;

/// The SHA-256 of a secret, in hexadecimal: what the store keeps.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().fold(String::with_capacity(64), |mut acc, b| {
        use std::fmt::Write as _;
        let _ = write!(acc, "{b:02x}");
        acc
    })
}

/// 32 random bytes from the system, in hexadecimal, prefixed so a leaked one is recognisable.
fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("no randomness for a token: {e}")))?;
    Ok(bytes.iter().fold(String::from("dmn_"), |mut acc, b| {
        use std::fmt::Write as _;
        let _ = write!(acc, "{b:02x}");
        acc
    }))
}

impl App {
    /// Creates a token and returns its secret, which is shown only now.
    pub fn create_token(&self, name: &str, role: Role) -> Result<String> {
        self.create_bound_token(name, &Grant { role, bound: None })
    }

    /// Creates a token of `grant` (bound to a service or an actor, or not) and returns its
    /// secret, which is shown only now.
    pub fn create_bound_token(&self, name: &str, grant: &Grant) -> Result<String> {
        crate::text::storable("the token's name", name)?;
        if name.trim().is_empty() || name.chars().count() > crate::requests::MAX_NAME {
            return Err(AppError::new(ErrorCode::InvalidArgument, "a token's name is 1 to 100 characters"));
        }
        let secret = new_secret()?;
        self.open_write()?.create_token(name, &grant.stored(), &hash_secret(&secret))?;
        Ok(secret)
    }

    /// Every token (revoked ones too), without secrets.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        Ok(self.open_read()?.tokens()?)
    }

    /// A fingerprint of the tokens (names, roles, revocations): when it changes, a server
    /// forgets the tokens it checked (a revocation from the command line or another server on a
    /// GeoPackage store, where nothing is announced).
    pub fn tokens_fingerprint(&self) -> Result<u64> {
        let text: String = self
            .tokens()?
            .iter()
            .map(|t| format!("{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1e}", t.name, t.role, t.created_at, t.revoked_at))
            .collect();
        Ok(domania_core::hash::fnv1a(text.as_bytes()))
    }

    /// Revokes the live token named `name`.
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        crate::text::storable("the token's name", name)?;
        if self.open_write()?.revoke_token(name)? {
            Ok(())
        } else {
            Err(AppError::said(ErrorCode::NotFound, "error-no-token", vec![("name", name.into())]))
        }
    }

    /// The name and grant of the token whose secret is `secret`; an unknown or revoked one is
    /// `unauthorized`.
    pub fn authenticate(&self, secret: &str) -> Result<(String, Grant)> {
        let t = self
            .open_read()?
            .token_by_hash(&hash_secret(secret))?
            .ok_or_else(|| AppError::said(ErrorCode::Unauthorized, "error-unknown-token", vec![]))?;
        let grant = Grant::parse(&t.role)
            .ok_or_else(|| AppError::new(ErrorCode::StoreCorrupt, format!("token {} has no known role", t.name)))?;
        Ok((t.name, grant))
    }
}
