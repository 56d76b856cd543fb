//! Ticket tokens: Ed25519 signing keys, the compact code a QR code carries ([`compact`]; the
//! ticket JWTs of earlier versions still verify), the public JWKS that lets a scanner verify
//! offline, and the QR rendering itself. Nothing here touches the database:
//! services load keys into a [`KeyRing`] and persist new ones, sealed with the key of the key
//! file ([`KeyFile`], [`SealingKey`]).

pub mod compact;
mod keyring;
mod links;
mod qr;
mod rotating;
mod sealed;
mod ticket_token;

pub use keyring::{GeneratedKey, KeyRing, KeyRingError, PublicJwk};
pub use links::{LinkClaims, LinkPurpose};
pub use qr::{render_png, render_svg, version_of, QrError};
pub use rotating::CodeKey;
pub use sealed::{KeyFile, SealingKey};
pub use ticket_token::TicketClaims;
