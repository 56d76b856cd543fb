//! Wallet passes: a ticket in the patron's phone wallet. This layer composes and signs the pass
//! from what the service hands it, and talks to the wallets' own services; it reads no
//! database (the service decides which ticket and what its pass says). Apple Wallet's
//! `.pkpass` is in `apple.rs`, Apple's push service in `apns.rs`, Google Wallet's save links and
//! object updates in `google.rs`.

pub mod apns;
pub mod apple;
pub mod google;
