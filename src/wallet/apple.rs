//! Apple Wallet: an `eventTicket` pass, packaged as Apple requires (`pass.json`, the images,
//! `manifest.json` with each file's SHA-1, and a detached PKCS#7 `signature` of the manifest
//! made with the operator's Pass Type ID certificate, carrying Apple's WWDR intermediate). The
//! `pkpass` crate does the packaging and signing (RustCrypto's `cms`, no OpenSSL).

use std::io::Cursor;
use std::path::Path;

use pkpass::barcode::{Barcode, BarcodeFormat};
use pkpass::fields::{Content, ContentOptions, Fields, Type};
use pkpass::resource::{self, Version};
use pkpass::sign::{SignConfig, WWDR};
use pkpass::web_service::WebService;
use pkpass::{Package, PassBuilder, PassConfig};

use crate::domain::wallet::PassContent;

/// Why passes cannot be made with the configured files.
#[derive(Debug, thiserror::Error)]
pub enum AppleWalletError {
    #[error("{setting} ({path}): {reason}")]
    File {
        setting: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "Apple Wallet needs apple_pass_type_id, apple_team_id, apple_pass_certificate_file and \
         apple_pass_key_file together; {missing} is not set"
    )]
    Incomplete { missing: &'static str },
    #[error("the pass's certificates do not load: {0}")]
    Certificates(String),
    #[error("the pass could not be packaged: {0}")]
    Packaging(String),
}

/// The operator's Apple credentials, as the settings name them.
#[derive(Debug, Clone, Default)]
pub struct AppleWalletSettings {
    pub pass_type_id: Option<String>,
    pub team_id: Option<String>,
    /// The Pass Type ID certificate (PEM).
    pub certificate_file: Option<String>,
    /// Its private key (PKCS#8 PEM, RSA).
    pub key_file: Option<String>,
    /// Apple's WWDR intermediate (PEM); Apple's G4, built in, when absent.
    pub wwdr_certificate_file: Option<String>,
    /// Who issues the passes, as Wallet shows it.
    pub organization_name: String,
}

/// What signs passes: loaded once at start.
#[derive(Debug, Clone)]
pub struct PassSigner {
    pub pass_type_id: String,
    pub team_id: String,
    pub organization_name: String,
    sign: SignConfig,
}

impl PassSigner {
    /// The signer, `None` when no Apple setting is made (the feature is off, its buttons
    /// hidden); an error when some are made but not all, or a file does not load.
    pub fn load(settings: &AppleWalletSettings) -> Result<Option<PassSigner>, AppleWalletError> {
        let named = [
            ("apple_pass_type_id", &settings.pass_type_id),
            ("apple_team_id", &settings.team_id),
            ("apple_pass_certificate_file", &settings.certificate_file),
            ("apple_pass_key_file", &settings.key_file),
        ];
        if named.iter().all(|(_, value)| value.is_none()) {
            return Ok(None);
        }
        if let Some((missing, _)) = named.iter().find(|(_, value)| value.is_none()) {
            return Err(AppleWalletError::Incomplete { missing });
        }
        let [pass_type_id, team_id, certificate_file, key_file] =
            named.map(|(_, value)| value.clone().unwrap_or_default());
        let certificate = read("apple_pass_certificate_file", &certificate_file)?;
        let key = String::from_utf8(read("apple_pass_key_file", &key_file)?).map_err(|_| {
            AppleWalletError::File {
                setting: "apple_pass_key_file",
                path: key_file.clone(),
                reason: "is not PEM text".into(),
            }
        })?;
        let wwdr = match &settings.wwdr_certificate_file {
            Some(path) => Some(read("apple_wwdr_certificate_file", path)?),
            None => None,
        };
        let wwdr = match &wwdr {
            Some(pem) => WWDR::Custom(pem),
            None => WWDR::G4,
        };
        let sign = SignConfig::new(&wwdr, &certificate, &key)
            .map_err(|e| AppleWalletError::Certificates(e.to_string()))?;
        Ok(Some(PassSigner {
            pass_type_id,
            team_id,
            organization_name: settings.organization_name.clone(),
            sign,
        }))
    }
}

fn read(setting: &'static str, path: &str) -> Result<Vec<u8>, AppleWalletError> {
    std::fs::read(Path::new(path)).map_err(|e| AppleWalletError::File {
        setting,
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Where the pass's wallet asks for updates (Apple's PassKit web service), and the token it
/// proves itself with.
#[derive(Debug, Clone)]
pub struct UpdateService {
    /// `{public_base_url}/wallet/apple`: the device appends `/v1/...`.
    pub url: String,
    pub authentication_token: String,
}

/// The signed `.pkpass` file of the ticket.
pub fn package(
    signer: &PassSigner,
    ticket: &PassContent,
    updates: Option<UpdateService>,
) -> Result<Vec<u8>, AppleWalletError> {
    let field = |key: &str, label: &str, value: &str| {
        Content::new(
            key,
            value,
            ContentOptions {
                label: Some(label.to_string()),
                ..ContentOptions::default()
            },
        )
    };
    let mut fields = Type::EventTicket {
        pass_fields: Fields::default(),
    }
    .add_primary_field(field("event", "Event", &ticket.event_name))
    .add_secondary_field(field("starts", "Starts", &ticket.starts_at_text))
    .add_secondary_field(field("venue", "Venue", &ticket.venue))
    .add_auxiliary_field(field("holder", "Holder", &ticket.holder_name))
    .add_auxiliary_field(field("seat", "Seat", &ticket.seat));
    if ticket.voided() {
        let why = format!("This ticket was {}.", ticket.status.as_str());
        fields = fields.add_back_field(field("status", "Status", &why));
    } else if let Some(code) = &ticket.rotating {
        // Apple Wallet shows no time-based codes: the changing code is on the ticket page.
        let how = format!(
            "This performance admits a code that changes every {} seconds, so a screenshot \
             cannot be used. Open your ticket page (the link in your ticket email) at the door.",
            code.period.as_secs()
        );
        fields = fields.add_secondary_field(field("code", "Code", "On your ticket page"));
        fields = fields.add_back_field(field("rotating", "At the door", &how));
    }
    let mut pass = PassBuilder::new(PassConfig {
        organization_name: signer.organization_name.clone(),
        description: format!("Ticket for {}", ticket.event_name),
        pass_type_identifier: signer.pass_type_id.clone(),
        team_identifier: signer.team_id.clone(),
        serial_number: ticket.ticket_id.to_string(),
    })
    .logo_text(ticket.event_name.clone())
    .relevant_date(ticket.starts_at)
    .voided(ticket.voided())
    .fields(fields);
    if let Some(code) = &ticket.barcode {
        pass = pass.add_barcode(Barcode {
            message: code.clone(),
            format: BarcodeFormat::QR,
            alt_text: None,
            message_encoding: "iso-8859-1".into(),
        });
    }
    if let Some(updates) = updates {
        pass = pass.web_service(WebService {
            authentication_token: updates.authentication_token,
            web_service_url: updates.url,
        });
    }

    let mut package = Package::new(pass.build());
    for (version, size) in [
        (Version::Standard, 29),
        (Version::Size2X, 58),
        (Version::Size3X, 87),
    ] {
        package
            .add_resource(resource::Type::Icon(version), Cursor::new(icon(size)?))
            .map_err(|e| AppleWalletError::Packaging(e.to_string()))?;
    }
    package.add_certificates(signer.sign.clone());
    let mut file = Cursor::new(Vec::new());
    package
        .write(&mut file)
        .map_err(|e| AppleWalletError::Packaging(e.to_string()))?;
    Ok(file.into_inner())
}

/// The pass's icon (Wallet requires one): a plain square in the console's ink colour.
fn icon(size: u32) -> Result<Vec<u8>, AppleWalletError> {
    let image = image::RgbaImage::from_pixel(size, size, image::Rgba([0x1f, 0x2a, 0x44, 0xff]));
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| AppleWalletError::Packaging(e.to_string()))?;
    Ok(png.into_inner())
}
