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
fn code_for(token: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        token.as_bytes(),
        EcLevel::M,
    )?)
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

/// The token as a scalable SVG document.
pub fn render_svg(token: &str) -> Result<String, QrError> {
    Ok(code_for(token)?
        .render::<svg::Color<'_>>()
        .min_dimensions(400, 400)
        .build())
}
