use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the token does not fit in a QR code: {0}")]
    TooLong(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// Medium error correction: survives a scuffed phone screen without making the code dense.
/// The qrcode crate picks the densest modes for the text: a compact code (Base45, see
/// [`super::compact`]) goes in alphanumeric mode, version 5 (37×37 modules) for tickets up to
/// the hundreds of millions; a JWT of an earlier version in byte mode, version 11 (61×61).
fn code_for(token: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        token.as_bytes(),
        EcLevel::M,
    )?)
}

/// The QR version (1–40) that carries `token`: the code is 17 + 4 × version modules wide.
pub fn version_of(token: &str) -> Result<i16, QrError> {
    match code_for(token)?.version() {
        qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => Ok(v),
    }
}

/// The token as a PNG image, about 400 px wide with a quiet zone.
pub fn render_png(token: &str) -> Result<Vec<u8>, QrError> {
    let image = code_for(token)?
        .render::<Luma<u8>>()
        .min_dimensions(400, 400)
        .build();
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, ImageFormat::Png)?;
    Ok(png.into_inner())
}

/// The token as a scalable SVG document (with a `viewBox`: pages size it to the screen).
pub fn render_svg(token: &str) -> Result<String, QrError> {
    Ok(code_for(token)?
        .render::<svg::Color<'_>>()
        .min_dimensions(400, 400)
        .build())
}
